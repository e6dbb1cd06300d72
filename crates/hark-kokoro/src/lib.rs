//! hark-kokoro (work in progress)
