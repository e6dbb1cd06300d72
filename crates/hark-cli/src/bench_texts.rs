//! The texts `hark bench` speaks (also read by hark-engine's `ttfa` example, through `#[path]`).

/// The one-sentence selection.
pub const SENTENCE: &str = "The meeting has been moved to Thursday afternoon.";

/// The paragraph.
pub const PARAGRAPH: &str = "Local text to speech has come a long way. A few years ago, \
a natural voice needed a server farm and a network connection; today a model with \
eighty-two million parameters runs on an ordinary laptop, faster than it speaks. \
That changes what a reader can do. It can start talking the moment you select a \
sentence, follow along word by word, and keep going through a long article while \
you make a cup of tea. Nothing leaves the machine, and nothing has to be uploaded first.";
