//! Push-fed decompression for gzip and zstd, shared by layers and by the
//! bundle as a whole. Both decoders are pure Rust so the page runs them too.
//!
//! A decoder stops early for one of two reasons, and callers report them
//! differently: the compressed stream is bad, or a bound was reached (the
//! output grew too far, or the stream asks for a window we will not
//! allocate). [`Stop`] carries which, as a value, from wherever it arose.

use std::io::{self, Write};

use ruzstd::decoding::FrameDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};

use crate::report::Compression;

/// Why decompressing a stream stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The compressed stream is corrupt or incomplete, in the decoder's words.
    Corrupt(String),
    /// A bound was reached: the [`crate::Limits`] field, if it is one (the
    /// zstd window cap is the decoder's own), and why.
    Limit {
        limit: Option<crate::limits::LimitName>,
        why: String,
    },
}

/// Where a decoder puts what it decompressed. Unlike [`io::Write`], an
/// output that refuses more bytes says why.
pub(crate) trait Output {
    /// Takes the next piece of decompressed bytes, or refuses it.
    fn accept(&mut self, bytes: &[u8]) -> Result<(), Stop>;
}

/// Recognizes a compressed stream by its magic bytes (never by a name or a
/// media type, which can lie).
pub(crate) fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    }
}

/// A decoder fed compressed bytes that hands decompressed bytes to `O`.
// One decoder lives per entry being read and is never moved in a hot loop.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decoder<O: Output> {
    Gzip(flate2::write::MultiGzDecoder<Refusal<O>>),
    Zstd(ZstdDecoder<O>),
}

impl<O: Output> Decoder<O> {
    /// A decoder for `compression`; uncompressed data needs none, and the
    /// output is handed back.
    pub fn new(compression: Compression, out: O) -> Result<Self, O> {
        match compression {
            Compression::None => Err(out),
            Compression::Gzip => Ok(Self::Gzip(flate2::write::MultiGzDecoder::new(
                Refusal::new(out),
            ))),
            Compression::Zstd => Ok(Self::Zstd(ZstdDecoder::new(out))),
        }
    }

    /// Decompresses the next piece of input. After an error the decoder is
    /// not fed again.
    pub fn write(&mut self, input: &[u8]) -> Result<(), Stop> {
        match self {
            Self::Gzip(d) => d.write_all(input).map_err(|e| gzip_stop(d, &e)),
            Self::Zstd(d) => d.write(input),
        }
    }

    /// Ends the stream, checking that it was complete.
    pub fn finish(&mut self) -> Result<(), Stop> {
        match self {
            Self::Gzip(d) => d.try_finish().map_err(|e| gzip_stop(d, &e)),
            Self::Zstd(d) => d.finish(),
        }
    }

    /// The output.
    pub fn get_ref(&self) -> &O {
        match self {
            Self::Gzip(d) => &d.get_ref().out,
            Self::Zstd(d) => &d.out,
        }
    }

    /// The output, mutably.
    pub fn get_mut(&mut self) -> &mut O {
        match self {
            Self::Gzip(d) => &mut d.get_mut().out,
            Self::Zstd(d) => &mut d.out,
        }
    }
}

/// The output for flate2, whose push decoder writes to an [`io::Write`] and
/// can carry nothing back but an [`io::Error`]. When the output refuses, the
/// reason is kept here and flate2 gets a bare error that only signals "stop";
/// [`gzip_stop`] then returns the kept reason, so the signal never reaches a
/// report.
pub(crate) struct Refusal<O> {
    out: O,
    refused: Option<Stop>,
}

impl<O> Refusal<O> {
    fn new(out: O) -> Self {
        Self { out, refused: None }
    }
}

impl<O: Output> Write for Refusal<O> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.out.accept(buf) {
            Ok(()) => Ok(buf.len()),
            Err(stop) => {
                self.refused = Some(stop);
                Err(io::Error::other("the output refused more bytes"))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why the gzip decoder failed: its output's refusal if there was one
/// (flate2 passes the output's error through unchanged), else the stream.
fn gzip_stop<O: Output>(d: &mut flate2::write::MultiGzDecoder<Refusal<O>>, e: &io::Error) -> Stop {
    d.get_mut()
        .refused
        .take()
        .unwrap_or_else(|| Stop::Corrupt(e.to_string()))
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
pub(crate) struct ZstdDecoder<O> {
    decoder: FrameDecoder,
    pending: Vec<u8>,
    in_frame: bool,
    skip: u64,
    out_buf: Vec<u8>,
    out: O,
}

impl<O: Output> ZstdDecoder<O> {
    fn new(out: O) -> Self {
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

    fn write(&mut self, input: &[u8]) -> Result<(), Stop> {
        self.pending.extend_from_slice(input);
        self.run(false)
    }

    fn finish(&mut self) -> Result<(), Stop> {
        self.run(true)?;
        if self.in_frame || self.skip > 0 || !self.pending.is_empty() {
            return Err(Stop::Corrupt("zstd stream ends inside a frame".to_owned()));
        }
        Ok(())
    }

    fn run(&mut self, at_end: bool) -> Result<(), Stop> {
        let mut pos = 0;
        let result = self.step_all(&mut pos, at_end);
        self.pending.drain(..pos.min(self.pending.len()));
        result
    }

    fn step_all(&mut self, pos: &mut usize, at_end: bool) -> Result<(), Stop> {
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
                    Err(e) => return Err(zstd_stop(e)),
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
                    .map_err(zstd_stop)?;
                if written > 0 {
                    self.out.accept(&self.out_buf[..written])?;
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
                .map_err(zstd_stop)?;
            *pos += read.min(span);
            if written > 0 {
                self.out.accept(&self.out_buf[..written])?;
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

fn zstd_stop(e: FrameDecoderError) -> Stop {
    let why = format!("zstd: {e}");
    match e {
        // A window beyond the cap is a limit, not corruption; it is the
        // decoder's cap ([`ZSTD_MAX_WINDOW`]), not a `Limits` field.
        FrameDecoderError::WindowSizeTooBig { .. } => Stop::Limit { limit: None, why },
        _ => Stop::Corrupt(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Output for Vec<u8> {
        fn accept(&mut self, bytes: &[u8]) -> Result<(), Stop> {
            self.extend_from_slice(bytes);
            Ok(())
        }
    }

    fn decode_in_chunks(
        compression: Compression,
        data: &[u8],
        chunk: usize,
    ) -> Result<Vec<u8>, Stop> {
        let mut d = Decoder::new(compression, Vec::new())
            .map_err(|_| Stop::Corrupt("not compressed".to_owned()))?;
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

    /// An output with room for `room` bytes, refusing with a limit after.
    struct Room {
        room: usize,
        taken: usize,
    }

    impl Output for Room {
        fn accept(&mut self, bytes: &[u8]) -> Result<(), Stop> {
            self.taken += bytes.len();
            if self.taken > self.room {
                return Err(Stop::Limit {
                    limit: Some(crate::limits::LimitName::MaxExpansionRatio),
                    why: format!("more than {} bytes", self.room),
                });
            }
            Ok(())
        }
    }

    #[test]
    fn an_output_refusal_comes_back_as_the_reason_it_gave() {
        let raw = sample();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&raw).expect("in-memory");
        let gz = enc.finish().expect("in-memory");
        let zst = ruzstd::encoding::compress_to_vec(
            &raw[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let refused = Stop::Limit {
            limit: Some(crate::limits::LimitName::MaxExpansionRatio),
            why: "more than 1000 bytes".to_owned(),
        };
        for (compression, data) in [(Compression::Gzip, &gz), (Compression::Zstd, &zst)] {
            let out = Room {
                room: 1000,
                taken: 0,
            };
            let Ok(mut d) = Decoder::new(compression, out) else {
                panic!("{compression:?} has a decoder");
            };
            let first_error = data.chunks(100).find_map(|piece| d.write(piece).err());
            assert_eq!(first_error, Some(refused.clone()), "{compression:?}");
        }
    }

    #[test]
    fn a_zstd_window_over_the_cap_is_a_limit_not_corruption() {
        // Frame header: no flags, window descriptor 2^(10+20) = 1 GiB; then
        // one raw last block of 5 bytes.
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3];
        frame.extend_from_slice(&(1u32 | (5 << 3)).to_le_bytes()[..3]);
        frame.extend_from_slice(b"hello");
        let mut frame_at_cap = frame.clone();
        frame_at_cap[5] = 15 << 3; // 32 MiB, the cap itself
        assert_eq!(
            decode_in_chunks(Compression::Zstd, &frame_at_cap, 3).expect("window at the cap"),
            b"hello"
        );
        match decode_in_chunks(Compression::Zstd, &frame, 3) {
            Err(Stop::Limit { limit: None, why }) => assert!(why.starts_with("zstd: "), "{why}"),
            other => panic!("expected a decoder limit, got {other:?}"),
        }
    }
}
