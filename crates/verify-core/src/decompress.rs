//! Push-fed decompression for gzip and zstd, shared by layers and by the
//! bundle as a whole. Both decoders are pure Rust so the page runs them too.

use std::io::{self, Write};

use ruzstd::decoding::FrameDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};

use crate::report::Compression;

/// Recognizes a compressed stream by its magic bytes (never by a name or a
/// media type, which can lie).
pub(crate) fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    }
}

/// A decoder fed compressed bytes that writes decompressed bytes to `W`.
// One decoder lives per entry being read and is never moved in a hot loop.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decoder<W: Write> {
    Gzip(flate2::write::MultiGzDecoder<W>),
    Zstd(ZstdDecoder<W>),
}

impl<W: Write> Decoder<W> {
    /// A decoder for `compression`; uncompressed data needs none, and the
    /// sink is handed back.
    pub fn new(compression: Compression, out: W) -> Result<Self, W> {
        match compression {
            Compression::None => Err(out),
            Compression::Gzip => Ok(Self::Gzip(flate2::write::MultiGzDecoder::new(out))),
            Compression::Zstd => Ok(Self::Zstd(ZstdDecoder::new(out))),
        }
    }

    /// Decompresses the next piece of input.
    pub fn write(&mut self, input: &[u8]) -> io::Result<()> {
        match self {
            Self::Gzip(d) => d.write_all(input),
            Self::Zstd(d) => d.write(input),
        }
    }

    /// Ends the stream, checking that it was complete.
    pub fn finish(&mut self) -> io::Result<()> {
        match self {
            Self::Gzip(d) => d.try_finish(),
            Self::Zstd(d) => d.finish(),
        }
    }

    /// The output sink.
    pub fn get_ref(&self) -> &W {
        match self {
            Self::Gzip(d) => d.get_ref(),
            Self::Zstd(d) => &d.out,
        }
    }

    /// The output sink, mutably.
    pub fn get_mut(&mut self) -> &mut W {
        match self {
            Self::Gzip(d) => d.get_mut(),
            Self::Zstd(d) => &mut d.out,
        }
    }
}

/// Largest zstd frame header (magic 4 + descriptor 1 + window 1 + dict id 4 +
/// content size 8): the decoder needs a whole header before it can start.
const ZSTD_MAX_FRAME_HEADER: usize = 18;
/// Drain size for decoded output.
const ZSTD_OUT_CHUNK: usize = 128 << 10;
/// Largest window accepted. zstd's levels use at most 8 MiB; `--long`
/// goes to 128 MiB, which would triple the verifier's memory.
const ZSTD_MAX_WINDOW: u64 = 32 << 20;

/// Adapts ruzstd's block decoder to push input: it keeps at most one
/// compressed block (<= 128 KiB) of input until the block is complete, and
/// handles concatenated and skippable frames as zstd(1) does.
pub(crate) struct ZstdDecoder<W> {
    decoder: FrameDecoder,
    pending: Vec<u8>,
    in_frame: bool,
    skip: u64,
    out_buf: Vec<u8>,
    out: W,
}

impl<W: Write> ZstdDecoder<W> {
    fn new(out: W) -> Self {
        let mut decoder = FrameDecoder::new();
        decoder.set_max_window_size(ZSTD_MAX_WINDOW);
        Self {
            decoder,
            pending: Vec::new(),
            in_frame: false,
            skip: 0,
            out_buf: vec![0; ZSTD_OUT_CHUNK],
            out,
        }
    }

    fn write(&mut self, input: &[u8]) -> io::Result<()> {
        self.pending.extend_from_slice(input);
        self.run(false)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.run(true)?;
        if self.in_frame || self.skip > 0 || !self.pending.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "zstd stream ends inside a frame",
            ));
        }
        Ok(())
    }

    fn run(&mut self, at_end: bool) -> io::Result<()> {
        let mut pos = 0;
        let result = self.step_all(&mut pos, at_end);
        self.pending.drain(..pos.min(self.pending.len()));
        result
    }

    fn step_all(&mut self, pos: &mut usize, at_end: bool) -> io::Result<()> {
        loop {
            let avail = self.pending.get(*pos..).unwrap_or_default();
            if self.skip > 0 {
                let n = usize::try_from(self.skip)
                    .unwrap_or(usize::MAX)
                    .min(avail.len());
                *pos += n;
                self.skip -= n as u64;
                if self.skip > 0 {
                    return Ok(());
                }
                continue;
            }
            if !self.in_frame {
                if avail.is_empty() || (avail.len() < ZSTD_MAX_FRAME_HEADER && !at_end) {
                    return Ok(());
                }
                let mut reader = avail;
                match self.decoder.reset(&mut reader) {
                    Ok(()) => self.in_frame = true,
                    Err(FrameDecoderError::ReadFrameHeaderError(
                        ReadFrameHeaderError::SkipFrame { length, .. },
                    )) => self.skip = u64::from(length),
                    Err(e) => return Err(zstd_error(e)),
                }
                *pos += avail.len() - reader.len();
                continue;
            }
            // Drain what the previous block produced before decoding another,
            // so the decoder holds at most its window plus one block.
            if self.decoder.can_collect() > 0 {
                let (_, written) = self
                    .decoder
                    .decode_from_to(&[], &mut self.out_buf)
                    .map_err(zstd_error)?;
                if written > 0 {
                    self.out.write_all(&self.out_buf[..written])?;
                    continue;
                }
            }
            if self.decoder.is_finished() {
                self.in_frame = false;
                continue;
            }
            let Some(span) = block_span(avail, at_end) else {
                return Ok(());
            };
            let (read, written) = self
                .decoder
                .decode_from_to(&avail[..span], &mut self.out_buf)
                .map_err(zstd_error)?;
            *pos += read.min(span);
            if written > 0 {
                self.out.write_all(&self.out_buf[..written])?;
            }
            if read == 0 && written == 0 {
                return Ok(());
            }
        }
    }
}

/// The bytes of the next zstd block: its 3-byte header, its body and, after
/// the last block of a frame, the 4-byte checksum that may follow (ruzstd
/// reads it only if the frame has one). `None` until all of it is present.
/// Handing ruzstd one block at a time is what bounds its buffer: a run of
/// 4-byte RLE blocks would otherwise decode megabytes per input byte.
fn block_span(avail: &[u8], at_end: bool) -> Option<usize> {
    let header = avail.get(..3)?;
    let bits = u32::from(header[0]) | (u32::from(header[1]) << 8) | (u32::from(header[2]) << 16);
    let last = bits & 1 == 1;
    let rle = (bits >> 1) & 3 == 1;
    let size = usize::try_from(bits >> 3).ok()?;
    let mut span = 3 + if rle { 1 } else { size };
    if avail.len() < span {
        return None;
    }
    if last {
        let extra = (avail.len() - span).min(4);
        if extra < 4 && !at_end {
            return None;
        }
        span += extra;
    }
    Some(span)
}

fn zstd_error(e: FrameDecoderError) -> io::Error {
    // A window beyond the cap is a limit, not corruption.
    let kind = match e {
        FrameDecoderError::WindowSizeTooBig { .. } => io::ErrorKind::OutOfMemory,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, format!("zstd: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_chunks(
        compression: Compression,
        data: &[u8],
        chunk: usize,
    ) -> io::Result<Vec<u8>> {
        let mut d = Decoder::new(compression, Vec::new()).map_err(|_| io::ErrorKind::Other)?;
        for piece in data.chunks(chunk) {
            d.write(piece)?;
        }
        d.finish()?;
        Ok(std::mem::take(d.get_mut()))
    }

    fn sample() -> Vec<u8> {
        (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn gzip_any_chunking() {
        let raw = sample();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&raw).expect("in-memory");
        let gz = enc.finish().expect("in-memory");
        assert_eq!(sniff(&gz), Compression::Gzip);
        for chunk in [1, 7, 4096, gz.len()] {
            assert_eq!(
                decode_in_chunks(Compression::Gzip, &gz, chunk).expect("valid gzip"),
                raw
            );
        }
        assert!(decode_in_chunks(Compression::Gzip, &gz[..gz.len() / 2], 4096).is_err());
    }

    #[test]
    fn zstd_any_chunking_and_multiframe() {
        let raw = sample();
        let mut frames = ruzstd::encoding::compress_to_vec(
            &raw[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        // A skippable frame, then a second frame: both are legal in a layer.
        frames.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        frames.extend(ruzstd::encoding::compress_to_vec(
            &b"tail"[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        assert_eq!(sniff(&frames), Compression::Zstd);
        let mut expected = raw.clone();
        expected.extend_from_slice(b"tail");
        for chunk in [1, 5, 1000, 65536, frames.len()] {
            assert_eq!(
                decode_in_chunks(Compression::Zstd, &frames, chunk).expect("valid zstd"),
                expected,
                "chunk {chunk}"
            );
        }
        assert!(decode_in_chunks(Compression::Zstd, &frames[..frames.len() / 2], 999).is_err());
    }
}
