//! Minimal 16-bit PCM WAV writer that works on non-seekable outputs (stdout).

use std::io::{self, Write};

/// Write a mono 16-bit WAV of `samples` (clipped to [-1, 1]) at `rate` Hz.
pub fn write_wav<W: Write>(mut w: W, samples: &[f32], rate: u32) -> io::Result<()> {
    let data_len = u32::try_from(samples.len() * 2).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, "audio too long for a WAV file")
    })?;
    let mut head = Vec::with_capacity(44);
    head.extend_from_slice(b"RIFF");
    head.extend_from_slice(&(36 + data_len).to_le_bytes());
    head.extend_from_slice(b"WAVEfmt ");
    head.extend_from_slice(&16u32.to_le_bytes());
    head.extend_from_slice(&1u16.to_le_bytes()); // PCM
    head.extend_from_slice(&1u16.to_le_bytes()); // mono
    head.extend_from_slice(&rate.to_le_bytes());
    head.extend_from_slice(&(rate * 2).to_le_bytes());
    head.extend_from_slice(&2u16.to_le_bytes());
    head.extend_from_slice(&16u16.to_le_bytes());
    head.extend_from_slice(b"data");
    head.extend_from_slice(&data_len.to_le_bytes());
    w.write_all(&head)?;
    let mut buf = Vec::with_capacity(8192);
    for block in samples.chunks(4096) {
        buf.clear();
        for &s in block {
            let s = if s.is_finite() {
                s.clamp(-1.0, 1.0)
            } else {
                0.0
            };
            buf.extend_from_slice(&((s * 32767.0).round() as i16).to_le_bytes());
        }
        w.write_all(&buf)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_clipping() {
        let mut out = Vec::new();
        write_wav(&mut out, &[0.0, 1.5, -2.0, 0.5, f32::NAN], 24_000).unwrap();
        assert_eq!(&out[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()), 36 + 10);
        assert_eq!(u32::from_le_bytes(out[24..28].try_into().unwrap()), 24_000);
        assert_eq!(u32::from_le_bytes(out[40..44].try_into().unwrap()), 10);
        let s: Vec<i16> = out[44..]
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(s, vec![0, 32767, -32767, 16384, 0]);
    }
}
