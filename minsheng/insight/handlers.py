"""Red-flag handlers: recompute on the events procurement and finance send on commit."""
