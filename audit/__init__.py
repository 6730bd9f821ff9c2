"""The audit log of configuration changes (issue 21 item 6): who added, changed or deleted a
converter, an integration or a rule chain, when, and the diff, secrets masked."""
