//! The one WAV writer of hark: 16-bit mono PCM RIFF/WAVE, as written by `hark say --out`, the
//! engine's [`Output::Wav`](crate::Output::Wav) and the bridge's WAV responses.
//!
//! - [`header`] is the 44-byte header, with the data size when it is known or 0xFFFFFFFF
//!   ("until the end of the stream") when it is not, as streaming encoders do;
//! - [`write_wav`] writes a whole file to any [`Write`] (also non-seekable ones, like stdout);
//! - [`WavFile`] appends to a file and rewrites the sizes in its header after each
//!   [`finalize`](WavFile::finalize), so the file is valid whenever nothing is being written.
//!
//! Samples are converted by [`push_s16le`] (clipped to [-1, 1], NaN → 0).

use crate::audio::to_i16;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

/// Length of the header [`header`] makes.
pub const HEADER_LEN: usize = 44;

/// Data size meaning "unknown, until the end of the stream".
pub const UNKNOWN_SIZE: u32 = u32::MAX;

/// Largest data size a WAV file can declare (the RIFF size must fit in 32 bits too).
pub const MAX_DATA_BYTES: u64 = u32::MAX as u64 - (HEADER_LEN as u64 - 8);

/// The 44-byte header of a 16-bit mono PCM WAV at `rate` Hz holding `data_bytes` of samples;
/// `None` writes [`UNKNOWN_SIZE`] in both size fields (a stream of unknown length).
/// Sizes over [`MAX_DATA_BYTES`] are written as unknown too.
pub fn header(rate: u32, data_bytes: Option<u64>) -> [u8; HEADER_LEN] {
    let (riff, data) = match data_bytes.filter(|&n| n <= MAX_DATA_BYTES) {
        Some(n) => ((n + HEADER_LEN as u64 - 8) as u32, n as u32),
        None => (UNKNOWN_SIZE, UNKNOWN_SIZE),
    };
    let bits: u16 = 16;
    let channels: u16 = 1;
    let block_align = channels * bits / 8;
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&riff.to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    h[32..34].copy_from_slice(&block_align.to_le_bytes());
    h[34..36].copy_from_slice(&bits.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

/// Appends `samples` to `out` as 16-bit little-endian PCM, clipped first ([`to_i16`]).
pub fn push_s16le(samples: &[f32], out: &mut Vec<u8>) {
    out.reserve(samples.len() * 2);
    for &s in samples {
        out.extend_from_slice(&to_i16(s).to_le_bytes());
    }
}

/// Samples converted per write (bounds the scratch buffer).
const BLOCK: usize = 4096;

/// Writes `samples` as 16-bit little-endian PCM to `w`, in blocks, without a header.
fn write_samples<W: Write>(w: &mut W, samples: &[f32], buf: &mut Vec<u8>) -> io::Result<()> {
    for block in samples.chunks(BLOCK) {
        buf.clear();
        push_s16le(block, buf);
        w.write_all(buf)?;
    }
    Ok(())
}

/// Writes a complete 16-bit mono WAV of `samples` at `rate` Hz to `w` and flushes it.
/// Fails with `InvalidInput` if the audio is too long for a WAV file.
pub fn write_wav<W: Write>(mut w: W, samples: &[f32], rate: u32) -> io::Result<()> {
    let bytes = samples.len() as u64 * 2;
    if bytes > MAX_DATA_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "audio too long for a WAV file (over 4 GiB)",
        ));
    }
    w.write_all(&header(rate, Some(bytes)))?;
    write_samples(&mut w, samples, &mut Vec::with_capacity(BLOCK * 2))?;
    w.flush()
}

/// A WAV file that grows: samples are appended, and [`finalize`](Self::finalize) writes the
/// sizes into the header. Appending past [`MAX_DATA_BYTES`] fails.
#[derive(Debug)]
pub struct WavFile {
    file: io::BufWriter<std::fs::File>,
    rate: u32,
    data_bytes: u64,
    buf: Vec<u8>,
}

impl WavFile {
    /// Creates (or truncates) `path` with an empty WAV at `rate` Hz.
    pub fn create(path: &Path, rate: u32) -> io::Result<WavFile> {
        let mut file = io::BufWriter::new(std::fs::File::create(path)?);
        file.write_all(&header(rate, Some(0)))?;
        file.flush()?;
        Ok(WavFile {
            file,
            rate,
            data_bytes: 0,
            buf: Vec::with_capacity(BLOCK * 2),
        })
    }

    /// Appends `samples` (clipped, converted to 16 bits).
    pub fn append(&mut self, samples: &[f32]) -> io::Result<()> {
        let bytes = samples.len() as u64 * 2;
        if self.data_bytes + bytes > MAX_DATA_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "WAV file full (4 GiB)",
            ));
        }
        write_samples(&mut self.file, samples, &mut self.buf)?;
        self.data_bytes += bytes;
        Ok(())
    }

    /// Number of samples written so far.
    pub fn samples(&self) -> u64 {
        self.data_bytes / 2
    }

    /// Flushes what was appended and writes the sizes into the header.
    pub fn finalize(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let f = self.file.get_mut();
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&header(self.rate, Some(self.data_bytes)))?;
        f.seek(SeekFrom::End(0))?;
        f.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], i: usize) -> u32 {
        u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
    }

    #[test]
    fn header_fields_known_and_unknown_sizes() {
        let h = header(24_000, Some(10));
        assert_eq!(&h[0..4], b"RIFF");
        assert_eq!(u32_at(&h, 4), 36 + 10);
        assert_eq!(&h[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([h[20], h[21]]), 1, "PCM");
        assert_eq!(u16::from_le_bytes([h[22], h[23]]), 1, "mono");
        assert_eq!(u32_at(&h, 24), 24_000);
        assert_eq!(u32_at(&h, 28), 48_000);
        assert_eq!(u16::from_le_bytes([h[34], h[35]]), 16);
        assert_eq!(&h[36..40], b"data");
        assert_eq!(u32_at(&h, 40), 10);
        let s = header(24_000, None);
        assert_eq!((u32_at(&s, 4), u32_at(&s, 40)), (u32::MAX, u32::MAX));
        let big = header(24_000, Some(MAX_DATA_BYTES + 1));
        assert_eq!(u32_at(&big, 40), u32::MAX);
    }

    #[test]
    fn whole_file_clips_and_converts() {
        let mut out = Vec::new();
        write_wav(&mut out, &[0.0, 1.5, -2.0, 0.5, f32::NAN], 24_000).unwrap();
        assert_eq!(u32_at(&out, 4), 36 + 10);
        assert_eq!(u32_at(&out, 40), 10);
        let s: Vec<i16> = out[44..]
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(s, vec![0, 32767, -32767, 16384, 0]);
    }

    #[test]
    fn growing_file_is_valid_after_each_finalize() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let mut w = WavFile::create(&path, 24_000).unwrap();
        let read = |p: &Path| {
            hound::WavReader::open(p)
                .unwrap()
                .into_samples::<i16>()
                .count()
        };
        assert_eq!(read(&path), 0);
        w.append(&vec![0.25; 5000]).unwrap();
        w.finalize().unwrap();
        assert_eq!(read(&path), 5000);
        w.append(&vec![-0.25; 3000]).unwrap();
        w.finalize().unwrap();
        assert_eq!(w.samples(), 8000);
        let r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.spec().sample_rate, 24_000);
        let s: Vec<i16> = r.into_samples().map(|x| x.unwrap()).collect();
        assert_eq!(s.len(), 8000);
        assert_eq!((s[0], s[7999]), (8192, -8192));
    }
}
