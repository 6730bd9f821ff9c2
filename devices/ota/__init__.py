"""OTA updates (ThingsBoard's firmware and software packages): the packages (packages.py), their
checksums (checksums.py), which package each device should run and telling it so (updates.py), and
the saves that change it (signals.py)."""
