//! hark-assets (work in progress)
