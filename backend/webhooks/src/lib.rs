//! Signed webhook deliveries (in progress).
