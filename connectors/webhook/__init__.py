"""Webhooks: endpoint configuration, the signed ``mailroute.webhook/v1`` payload and its delivery."""
