//! Model configuration (mirrors Kokoro's `config.json`) and the phoneme vocabulary.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Output sample rate (Hz).
pub const SAMPLE_RATE: u32 = 24_000;
/// Maximum phoneme symbols per forward pass (512 positions minus the two pads).
pub const MAX_PHONEMES: usize = 510;

/// ALBERT (PL-BERT) hyper-parameters, `config.json` → `plbert`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PlbertConfig {
    /// Width of the encoder's hidden states (768).
    pub hidden_size: usize,
    /// Attention heads (12).
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer (2048).
    pub intermediate_size: usize,
    /// Longest input in tokens, pads included (512).
    pub max_position_embeddings: usize,
    /// Times the one shared layer is applied (12).
    pub num_hidden_layers: usize,
}

/// iSTFTNet generator hyper-parameters, `config.json` → `istftnet`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct IstftnetConfig {
    /// Kernel of each transposed-convolution upsampling stage (20, 12).
    pub upsample_kernel_sizes: Vec<usize>,
    /// Time factor of each upsampling stage (10, 6).
    pub upsample_rates: Vec<usize>,
    /// Hop of the output iSTFT, samples (5).
    pub gen_istft_hop_size: usize,
    /// FFT size of the output iSTFT (20).
    pub gen_istft_n_fft: usize,
    /// Dilations of each resblock's convolutions.
    pub resblock_dilation_sizes: Vec<Vec<usize>>,
    /// Kernel of each of the parallel resblocks (3, 7, 11).
    pub resblock_kernel_sizes: Vec<usize>,
    /// Channels entering the first upsampling stage (512).
    pub upsample_initial_channel: usize,
}

/// Kokoro's `config.json`. Unknown keys (`dim_in`, `dropout`, `n_mels`, …) are ignored.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Config {
    /// The generator.
    pub istftnet: IstftnetConfig,
    /// Width of the text features (512).
    pub hidden_dim: usize,
    /// Largest duration class of the duration predictor (50).
    pub max_dur: usize,
    /// Layers of the duration encoder (3).
    pub n_layer: usize,
    /// Size of the token vocabulary (178).
    pub n_token: usize,
    /// Width of each half of a style vector (128).
    pub style_dim: usize,
    /// Kernel of the text encoder's convolutions (5).
    pub text_encoder_kernel_size: usize,
    /// The ALBERT encoder.
    pub plbert: PlbertConfig,
    /// Phoneme symbol → token id.
    pub vocab: BTreeMap<String, u32>,
}

/// Kokoro-82M v1.0's `config.json`, as published with the weights (the vocabulary of
/// [`Config::tiny`], and the config an asset installer writes when its source has none).
pub const CONFIG_V1_JSON: &str = include_str!("../data/kokoro-config.json");

impl Config {
    /// Reads and validates a `config.json`.
    pub fn from_file(p: &Path) -> Result<Self> {
        let s = std::fs::read_to_string(p).map_err(|source| Error::Io {
            path: p.to_path_buf(),
            source,
        })?;
        Self::from_json(&s).map_err(|e| match e {
            Error::ConfigJson { path: None, source } => Error::ConfigJson {
                path: Some(p.to_path_buf()),
                source,
            },
            e => e,
        })
    }

    /// Parses and validates a `config.json` document.
    pub fn from_json(s: &str) -> Result<Self> {
        let cfg: Config =
            serde_json::from_str(s).map_err(|source| Error::ConfigJson { path: None, source })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The Kokoro-82M v1.0 configuration.
    pub fn kokoro_v1() -> Self {
        Self::from_json(CONFIG_V1_JSON).expect("committed config is valid")
    }

    /// Same architecture as v1.0 with small dimensions, for fast tests: same vocabulary, n_fft,
    /// hop and upsampling (so 600 samples per duration frame), 512 positions.
    pub fn tiny() -> Self {
        let mut c = Self::kokoro_v1();
        c.hidden_dim = 32;
        c.style_dim = 16;
        c.max_dur = 8;
        c.plbert.hidden_size = 32;
        c.plbert.num_attention_heads = 2;
        c.plbert.intermediate_size = 64;
        c.plbert.num_hidden_layers = 2;
        c.istftnet.upsample_initial_channel = 32;
        c
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        let i = &self.istftnet;
        if self.hidden_dim == 0 || !self.hidden_dim.is_multiple_of(16) {
            return bad("hidden_dim must be a positive multiple of 16");
        }
        if self.style_dim == 0 || self.max_dur == 0 || self.n_layer == 0 {
            return bad("style_dim, max_dur and n_layer must be positive");
        }
        if self.plbert.num_attention_heads == 0
            || !self
                .plbert
                .hidden_size
                .is_multiple_of(self.plbert.num_attention_heads)
        {
            return bad("plbert.hidden_size must be a multiple of num_attention_heads");
        }
        if self.plbert.max_position_embeddings < 3 {
            return bad("plbert.max_position_embeddings too small");
        }
        if i.upsample_rates.len() != 2 || i.upsample_kernel_sizes.len() != 2 {
            return bad("istftnet: exactly two upsampling stages are supported");
        }
        if i.resblock_kernel_sizes.is_empty()
            || i.resblock_dilation_sizes.len() != i.resblock_kernel_sizes.len()
        {
            return bad("istftnet: resblock kernel and dilation lists differ in length");
        }
        if i.resblock_kernel_sizes.iter().any(|k| k % 2 == 0) {
            return bad("istftnet: resblock kernels must be odd");
        }
        if i.gen_istft_n_fft < 4
            || !i.gen_istft_n_fft.is_multiple_of(2)
            || i.gen_istft_hop_size == 0
        {
            return bad("istftnet: n_fft must be even and hop positive");
        }
        if !i.upsample_initial_channel.is_multiple_of(4) || i.upsample_initial_channel == 0 {
            return bad("istftnet: upsample_initial_channel must be a multiple of 4");
        }
        if self.text_encoder_kernel_size.is_multiple_of(2) {
            return bad("text_encoder_kernel_size must be odd");
        }
        if let Some((s, &id)) = self
            .vocab
            .iter()
            .find(|(_, &id)| id as usize >= self.n_token || id == 0)
        {
            return Err(Error::Config(format!(
                "vocab symbol {s:?} has id {id} outside 1..{}",
                self.n_token
            )));
        }
        if let Some(s) = self.vocab.keys().find(|s| s.chars().count() != 1) {
            return Err(Error::Config(format!(
                "vocab key {s:?} is not a single character"
            )));
        }
        Ok(())
    }

    /// Samples of audio per predicted duration frame (600 for v1.0).
    pub fn samples_per_frame(&self) -> usize {
        let i = &self.istftnet;
        2 * i.upsample_rates.iter().product::<usize>() * i.gen_istft_hop_size
    }

    /// Channels of the decoder's residual blocks (1024 for v1.0).
    pub(crate) fn decoder_dim(&self) -> usize {
        2 * self.hidden_dim
    }

    /// Channels of the decoder's `asr_res` projection (64 for v1.0).
    pub(crate) fn asr_res_dim(&self) -> usize {
        self.hidden_dim / 8
    }
}

/// Phoneme symbol → token id, from `config.vocab`.
#[derive(Debug, Clone)]
pub struct Vocab {
    map: HashMap<char, u32>,
}

impl Vocab {
    /// The vocabulary of a config.
    pub fn new(cfg: &Config) -> Self {
        let map = cfg
            .vocab
            .iter()
            .filter_map(|(k, &v)| k.chars().next().map(|c| (c, v)))
            .collect();
        Self { map }
    }

    /// Token ids for a phoneme string, WITH the leading and trailing 0 pad.
    /// Unknown symbols are an error listing every distinct unknown symbol.
    pub fn encode(&self, phonemes: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(phonemes.len() + 2);
        ids.push(0);
        let mut unknown = Vec::new();
        for c in phonemes.chars() {
            match self.map.get(&c) {
                Some(&id) => ids.push(id),
                None => {
                    if !unknown.contains(&c) {
                        unknown.push(c);
                    }
                }
            }
        }
        if !unknown.is_empty() {
            return Err(Error::UnknownSymbols(unknown));
        }
        ids.push(0);
        Ok(ids)
    }

    /// Token id of one symbol.
    pub fn id(&self, c: char) -> Option<u32> {
        self.map.get(&c).copied()
    }

    /// Whether `c` is a symbol of the vocabulary.
    pub fn contains(&self, c: char) -> bool {
        self.map.contains_key(&c)
    }

    /// Number of symbols (114 for v1.0).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the vocabulary has no symbols.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
