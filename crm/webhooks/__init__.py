"""推送接口 (signed webhooks): an admin registers endpoints per org unit; the writes' signals queue
deliveries in their transaction (an outbox), and a delivery round sends them, signed, with retries."""
