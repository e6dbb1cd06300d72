//! hark-text (work in progress)
