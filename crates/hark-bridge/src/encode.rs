//! Audio encoders for the bridge's responses: WAV and raw PCM, MP3 (LAME), Ogg Opus (libopus)
//! and FLAC (flacenc). All take 24 kHz mono `f32` as the engine makes it, a chunk at a time,
//! and give bytes that can be sent at once, so a streamed response carries audio as it is made.

use hark_engine::audio::{clip, to_i16};
use hark_engine::{wav, SAMPLE_RATE};

/// The `Content-Type` of raw 16-bit PCM. It and the Opus encoder's `SampleRate::Hz24000` spell
/// the model's rate where a constant can't be formatted in; the assertion below keeps them true.
const PCM_S16LE_TYPE: &str = "audio/L16;rate=24000;channels=1";
const _: () = assert!(
    SAMPLE_RATE == 24_000,
    "PCM_S16LE_TYPE and Opus name the rate"
);

/// Raw PCM sample encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcmFormat {
    /// Signed 16-bit little endian.
    S16le,
    /// 32-bit float little endian.
    F32le,
}

impl PcmFormat {
    /// Bytes per (mono) sample.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            PcmFormat::S16le => 2,
            PcmFormat::F32le => 4,
        }
    }
}

/// Appends `samples` encoded as `format` to `out` (clipped first).
pub fn encode_pcm(samples: &[f32], format: PcmFormat, out: &mut Vec<u8>) {
    out.reserve(samples.len() * format.bytes_per_sample());
    match format {
        PcmFormat::S16le => wav::push_s16le(samples, out),
        PcmFormat::F32le => {
            for &s in samples {
                out.extend_from_slice(&clip(s).to_le_bytes());
            }
        }
    }
}

/// An audio format the bridge can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RIFF/WAVE, 16-bit PCM (sizes 0xFFFFFFFF when streamed, exact otherwise).
    Wav,
    /// Raw signed 16-bit little-endian PCM.
    PcmS16le,
    /// Raw 32-bit float little-endian PCM.
    PcmF32le,
    /// MPEG-1/2 Layer III (LAME), 64 kbit/s CBR, mono.
    Mp3,
    /// Opus in Ogg (RFC 7845), 48 kbit/s, 20 ms frames.
    Opus,
    /// FLAC, 16 bits, 4096-sample blocks.
    Flac,
}

/// The OpenAI `response_format` values served, in the order error messages list them.
pub const OPENAI_FORMATS: &[&str] = &["mp3", "opus", "flac", "wav", "pcm"];

impl Format {
    /// The format an OpenAI `response_format` names (`pcm` is s16le 24 kHz mono).
    pub fn from_openai(name: &str) -> Option<Format> {
        Some(match name {
            "mp3" => Format::Mp3,
            "opus" => Format::Opus,
            "flac" => Format::Flac,
            "wav" => Format::Wav,
            "pcm" => Format::PcmS16le,
            _ => return None,
        })
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Wav => "audio/wav",
            Format::PcmS16le => PCM_S16LE_TYPE,
            Format::PcmF32le => "application/octet-stream",
            Format::Mp3 => "audio/mpeg",
            Format::Opus => "audio/ogg; codecs=opus",
            Format::Flac => "audio/flac",
        }
    }

    /// The `X-Sample-Format` of raw and WAV responses (`None` for compressed ones).
    pub fn sample_format(self) -> Option<&'static str> {
        match self {
            Format::Wav | Format::PcmS16le => Some("s16le"),
            Format::PcmF32le => Some("f32le"),
            _ => None,
        }
    }

    /// A new encoder.
    pub fn encoder(self) -> Result<Box<dyn Encode>, String> {
        Ok(match self {
            Format::Wav => Box::new(Wav),
            Format::PcmS16le => Box::new(Pcm(PcmFormat::S16le)),
            Format::PcmF32le => Box::new(Pcm(PcmFormat::F32le)),
            Format::Mp3 => Box::new(Mp3::new()?),
            Format::Opus => Box::new(Opus::new()?),
            Format::Flac => Box::new(Flac::new()?),
        })
    }
}

/// One encoder: `start`, then `push` for each chunk of samples, then `finish`; each appends the
/// bytes that are ready to `out`.
pub trait Encode: Send {
    /// Bytes that go first (headers).
    fn start(&mut self, out: &mut Vec<u8>) -> Result<(), String>;
    /// Encodes `samples` (24 kHz mono, clipped to [-1, 1]).
    fn push(&mut self, samples: &[f32], out: &mut Vec<u8>) -> Result<(), String>;
    /// Flushes what the encoder still holds.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String>;
    /// For a response sent whole: rewrites `body` (everything `start`, `push` and `finish`
    /// gave) with what only the end knows (lengths, checksums).
    fn complete(&self, _body: &mut [u8]) {}
}

struct Wav;

impl Encode for Wav {
    fn start(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&wav::header(SAMPLE_RATE, None));
        Ok(())
    }
    fn push(&mut self, samples: &[f32], out: &mut Vec<u8>) -> Result<(), String> {
        encode_pcm(samples, PcmFormat::S16le, out);
        Ok(())
    }
    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
    fn complete(&self, body: &mut [u8]) {
        let data = body.len().saturating_sub(wav::HEADER_LEN) as u64;
        body[..wav::HEADER_LEN].copy_from_slice(&wav::header(SAMPLE_RATE, Some(data)));
    }
}

struct Pcm(PcmFormat);

impl Encode for Pcm {
    fn start(&mut self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
    fn push(&mut self, samples: &[f32], out: &mut Vec<u8>) -> Result<(), String> {
        encode_pcm(samples, self.0, out);
        Ok(())
    }
    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

/// Samples converted to 16 bits at a time (bounds the scratch buffers).
const BLOCK: usize = 4096;

struct Mp3 {
    lame: mp3lame_encoder::Encoder,
    pcm: Vec<i16>,
}

impl Mp3 {
    fn new() -> Result<Self, String> {
        use mp3lame_encoder::{Bitrate, Builder, Quality};
        let err = |e: mp3lame_encoder::BuildError| format!("MP3 encoder: {e:?}");
        let mut b = Builder::new().ok_or("MP3 encoder: out of memory")?;
        b.set_num_channels(1).map_err(err)?;
        b.set_sample_rate(SAMPLE_RATE).map_err(err)?;
        b.set_brate(Bitrate::Kbps64).map_err(err)?;
        b.set_quality(Quality::Good).map_err(err)?;
        // A streamed file cannot go back to fill in a VBR/LAME header.
        b.set_to_write_vbr_tag(false).map_err(err)?;
        Ok(Mp3 {
            lame: b.build().map_err(err)?,
            pcm: Vec::with_capacity(BLOCK),
        })
    }
}

impl Encode for Mp3 {
    fn start(&mut self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
    fn push(&mut self, samples: &[f32], out: &mut Vec<u8>) -> Result<(), String> {
        for block in samples.chunks(BLOCK) {
            self.pcm.clear();
            self.pcm.extend(block.iter().map(|&s| to_i16(s)));
            out.reserve(mp3lame_encoder::max_required_buffer_size(block.len()));
            self.lame
                .encode_to_vec(mp3lame_encoder::MonoPcm(&self.pcm), out)
                .map_err(|e| format!("MP3 encoder: {e:?}"))?;
        }
        Ok(())
    }
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        out.reserve(7200);
        self.lame
            .flush_to_vec::<mp3lame_encoder::FlushGap>(out)
            .map_err(|e| format!("MP3 encoder: {e:?}"))?;
        Ok(())
    }
}

/// Opus frame: 20 ms at 24 kHz.
const OPUS_FRAME: usize = 480;
/// Ogg granule positions count 48 kHz samples whatever the input rate.
const GRANULE_PER_SAMPLE: u64 = 48_000 / SAMPLE_RATE as u64;
/// Serial number of our (only) logical Ogg stream.
const OGG_SERIAL: u32 = 0x6861_726b;
/// Packets per Ogg page at most (0.5 s of audio); a page also ends with each pushed chunk.
const PACKETS_PER_PAGE: usize = 25;

struct Opus {
    enc: opusic_c::Encoder,
    ogg: ogg::PacketWriter<'static, Vec<u8>>,
    /// Samples waiting for a full frame.
    frame: Vec<f32>,
    packet: Vec<u8>,
    /// Encoder look-ahead in input samples (24 kHz).
    lookahead: u64,
    /// Real samples pushed so far.
    samples_in: u64,
    /// Samples (real and padding) encoded so far.
    samples_coded: u64,
}

impl Opus {
    fn new() -> Result<Self, String> {
        use opusic_c::{Application, Bitrate, Channels, Encoder, SampleRate};
        let err = |e: opusic_c::ErrorCode| format!("Opus encoder: {e:?}");
        let mut enc =
            Encoder::new(Channels::Mono, SampleRate::Hz24000, Application::Audio).map_err(err)?;
        enc.set_bitrate(Bitrate::Value(48_000)).map_err(err)?;
        let lookahead = u64::from(enc.get_look_ahead().map_err(err)?);
        Ok(Opus {
            enc,
            ogg: ogg::PacketWriter::new(Vec::new()),
            frame: Vec::with_capacity(OPUS_FRAME),
            packet: vec![0; 4000],
            lookahead,
            samples_in: 0,
            samples_coded: 0,
        })
    }

    fn pre_skip(&self) -> u64 {
        self.lookahead * GRANULE_PER_SAMPLE
    }

    /// Encodes the full frame in `self.frame` as one packet; returns it with its granule
    /// position. The last packet's position trims the padding.
    fn encode_frame(&mut self, last: bool) -> Result<(Vec<u8>, u64), String> {
        let n = self
            .enc
            .encode_float_to_slice(&self.frame, &mut self.packet)
            .map_err(|e| format!("Opus encoder: {e:?}"))?;
        self.samples_coded += OPUS_FRAME as u64;
        self.frame.clear();
        // A page's granule position counts the samples decoded up to its last packet, the
        // pre-skip included (RFC 7845, 4); the last one stops at the real end, which trims the
        // padding.
        let granule = if last {
            self.pre_skip() + self.samples_in * GRANULE_PER_SAMPLE
        } else {
            self.samples_coded * GRANULE_PER_SAMPLE
        };
        Ok((self.packet[..n].to_vec(), granule))
    }

    /// Writes `packets` into pages (at most [`PACKETS_PER_PAGE`] each, the last page ended, or
    /// the stream ended when `last`) and moves the bytes to `out`.
    fn write(
        &mut self,
        packets: Vec<(Vec<u8>, u64)>,
        last: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        use ogg::PacketWriteEndInfo as End;
        let count = packets.len();
        for (i, (data, granule)) in packets.into_iter().enumerate() {
            let end = if i + 1 == count {
                if last {
                    End::EndStream
                } else {
                    End::EndPage
                }
            } else if (i + 1) % PACKETS_PER_PAGE == 0 {
                End::EndPage
            } else {
                End::NormalPacket
            };
            self.ogg
                .write_packet(data, OGG_SERIAL, end, granule)
                .map_err(|e| format!("Ogg writer: {e}"))?;
        }
        out.append(self.ogg.inner_mut());
        Ok(())
    }
}

impl Encode for Opus {
    fn start(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        use ogg::PacketWriteEndInfo as End;
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1); // version
        head.push(1); // channels
        head.extend_from_slice(&(self.pre_skip() as u16).to_le_bytes());
        head.extend_from_slice(&SAMPLE_RATE.to_le_bytes()); // input rate (informative)
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // channel mapping family
        let vendor = concat!("hark ", env!("CARGO_PKG_VERSION"));
        let mut tags = Vec::with_capacity(16 + vendor.len());
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor.as_bytes());
        tags.extend_from_slice(&0u32.to_le_bytes()); // no comments
        for packet in [head, tags] {
            self.ogg
                .write_packet(packet, OGG_SERIAL, End::EndPage, 0)
                .map_err(|e| format!("Ogg writer: {e}"))?;
        }
        out.append(self.ogg.inner_mut());
        Ok(())
    }

    fn push(&mut self, samples: &[f32], out: &mut Vec<u8>) -> Result<(), String> {
        let mut packets = Vec::new();
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (OPUS_FRAME - self.frame.len()).min(rest.len());
            self.frame
                .extend(rest[..take].iter().map(|&s| s.clamp(-1.0, 1.0)));
            self.samples_in += take as u64;
            rest = &rest[take..];
            if self.frame.len() == OPUS_FRAME {
                packets.push(self.encode_frame(false)?);
            }
        }
        // The page ends with the chunk, so what is encoded leaves now.
        self.write(packets, false, out)
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        // Feed silence until the look-ahead has pushed every real sample out, then end the
        // stream on a granule position that trims the padding.
        let needed = self.samples_in + self.lookahead;
        let mut packets = Vec::new();
        loop {
            self.frame.resize(OPUS_FRAME, 0.0);
            let last = self.samples_coded + OPUS_FRAME as u64 >= needed;
            packets.push(self.encode_frame(last)?);
            if last {
                break;
            }
        }
        self.write(packets, true, out)
    }
}

/// FLAC block size (samples per frame).
const FLAC_BLOCK: usize = 4096;

struct Flac {
    config: flacenc::error::Verified<flacenc::config::Encoder>,
    info: flacenc::component::StreamInfo,
    fill: (flacenc::source::FrameBuf, flacenc::source::Context),
    block: Vec<i32>,
    frames: usize,
    header_len: usize,
}

impl Flac {
    fn new() -> Result<Self, String> {
        use flacenc::error::Verify;
        let err = |e: &dyn std::fmt::Debug| format!("FLAC encoder: {e:?}");
        let config = flacenc::config::Encoder::default()
            .into_verified()
            .map_err(|e| err(&e))?;
        let mut info = flacenc::component::StreamInfo::new(SAMPLE_RATE as usize, 1, 16)
            .map_err(|e| err(&e))?;
        info.set_block_sizes(FLAC_BLOCK, FLAC_BLOCK)
            .map_err(|e| err(&e))?;
        Ok(Flac {
            config,
            info,
            fill: (
                flacenc::source::FrameBuf::with_size(1, FLAC_BLOCK).map_err(|e| err(&e))?,
                flacenc::source::Context::new(16, 1),
            ),
            block: Vec::with_capacity(FLAC_BLOCK),
            frames: 0,
            header_len: 0,
        })
    }

    /// "fLaC" and the STREAMINFO block as they stand.
    fn header(&self) -> Result<Vec<u8>, String> {
        use flacenc::component::BitRepr;
        let stream = flacenc::component::Stream::with_stream_info(self.info.clone());
        let mut sink = flacenc::bitsink::ByteSink::new();
        stream
            .write(&mut sink)
            .map_err(|e| format!("FLAC writer: {e:?}"))?;
        Ok(sink.into_inner())
    }

    fn encode_block(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        use flacenc::component::BitRepr;
        use flacenc::source::Fill;
        if self.block.is_empty() {
            return Ok(());
        }
        if self.block.len() < FLAC_BLOCK {
            self.fill.0.resize(self.block.len());
        }
        self.fill
            .fill_interleaved(&self.block)
            .map_err(|e| format!("FLAC encoder: {e:?}"))?;
        let frame =
            flacenc::encode_fixed_size_frame(&self.config, &self.fill.0, self.frames, &self.info)
                .map_err(|e| format!("FLAC encoder: {e:?}"))?;
        self.frames += 1;
        self.block.clear();
        let mut sink = flacenc::bitsink::ByteSink::new();
        frame
            .write(&mut sink)
            .map_err(|e| format!("FLAC writer: {e:?}"))?;
        out.extend_from_slice(sink.as_slice());
        Ok(())
    }
}

impl Encode for Flac {
    fn start(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let h = self.header()?;
        self.header_len = h.len();
        out.extend_from_slice(&h);
        Ok(())
    }
    fn push(&mut self, samples: &[f32], out: &mut Vec<u8>) -> Result<(), String> {
        for &s in samples {
            self.block.push(i32::from(to_i16(s)));
            if self.block.len() == FLAC_BLOCK {
                self.encode_block(out)?;
            }
        }
        Ok(())
    }
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        self.encode_block(out)?;
        // Known now, for `complete`.
        let ctx = &self.fill.1;
        self.info.set_total_samples(ctx.total_samples());
        self.info.set_md5_digest(&ctx.md5_digest());
        Ok(())
    }
    fn complete(&self, body: &mut [u8]) {
        if let Ok(h) = self.header() {
            if h.len() == self.header_len && body.len() >= h.len() {
                body[..h.len()].copy_from_slice(&h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_encoding_clips_before_converting() {
        let mut out = Vec::new();
        encode_pcm(
            &[0.0, 1.0, -1.0, 2.5, -7.0, f32::NAN, 0.5],
            PcmFormat::S16le,
            &mut out,
        );
        let v: Vec<i16> = out
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(v, vec![0, 32767, -32767, 32767, -32767, 0, 16384]);
        out.clear();
        encode_pcm(&[3.0, -0.25], PcmFormat::F32le, &mut out);
        let f: Vec<f32> = out
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(f, vec![1.0, -0.25]);
    }

    fn tone(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| 0.4 * (i as f32 * 2.0 * std::f32::consts::PI * 220.0 / 24_000.0).sin())
            .collect()
    }

    fn encode(format: Format, chunks: &[usize], whole: bool) -> Vec<u8> {
        let mut enc = format.encoder().unwrap();
        let mut out = Vec::new();
        enc.start(&mut out).unwrap();
        for &n in chunks {
            enc.push(&tone(n), &mut out).unwrap();
        }
        enc.finish(&mut out).unwrap();
        if whole {
            enc.complete(&mut out);
        }
        out
    }

    #[test]
    fn every_format_starts_with_its_signature() {
        let sig: [(Format, &[u8]); 4] = [
            (Format::Wav, b"RIFF"),
            (Format::Opus, b"OggS"),
            (Format::Flac, b"fLaC"),
            (Format::Mp3, &[0xff]),
        ];
        for (f, magic) in sig {
            let out = encode(f, &[1000, 7000, 24_000], false);
            assert!(out.starts_with(magic), "{f:?}: {:02x?}", &out[..8]);
            assert!(out.len() > 200, "{f:?}: {} bytes", out.len());
        }
        assert_eq!(encode(Format::PcmS16le, &[10, 20], false).len(), 60);
        assert_eq!(encode(Format::PcmF32le, &[10, 20], false).len(), 120);
    }

    #[test]
    fn whole_wav_has_exact_sizes() {
        let out = encode(Format::Wav, &[100, 50], true);
        assert_eq!(u32::from_le_bytes(out[40..44].try_into().unwrap()), 300);
        let out = encode(Format::Wav, &[100, 50], false);
        assert_eq!(
            u32::from_le_bytes(out[40..44].try_into().unwrap()),
            u32::MAX
        );
    }

    #[test]
    fn opus_pages_carry_the_real_length() {
        // The last page's granule position is pre-skip + 2 × samples (48 kHz units).
        let out = encode(Format::Opus, &[1000, 12_345], false);
        let mut r = ogg::PacketReader::new(std::io::Cursor::new(out));
        let head = r.read_packet().unwrap().unwrap();
        assert!(head.data.starts_with(b"OpusHead"));
        let pre_skip = u16::from_le_bytes([head.data[10], head.data[11]]) as u64;
        let mut last = None;
        while let Some(p) = r.read_packet().unwrap() {
            last = Some(p);
        }
        let last = last.unwrap();
        assert!(last.last_in_stream());
        assert_eq!(last.absgp_page(), pre_skip + 2 * 13_345);
    }
}
