//! Latency benchmark (used by `hark bench`).
