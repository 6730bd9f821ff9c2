"""HTTP ingress of push integrations: /api/v1/integrations/{endpoint}/{routingKey} (reference 3.7)."""
