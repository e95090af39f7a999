//! Uploads into the holding repository while the bundle is read.
//!
//! Each file the verifier forwards (a file named like a blob or a config)
//! is streamed into the holding repository as it is read, on a thread of
//! its own so that reading and uploading overlap. The files reach it
//! through a channel of a few pieces, so memory stays bounded however fast
//! either side is. Each upload is one PATCH whose length is the file's,
//! closed by a `PUT ?digest=` with the SHA-256 the verifier computed: the
//! registry hashes what it received and refuses a blob that differs.
//!
//! Nothing in the holding repository is tagged or referenced by a manifest,
//! so a bundle that fails leaves only blobs no reader can reach, which the
//! registry's garbage collection removes.

use std::collections::HashSet;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use verify_core::{Digest, Sha256};

use super::RegistryError;
use super::client::{Client, Upload};

/// Pieces queued for the uploading thread before the reader waits: with
/// pieces of up to a MiB (the pipeline's read size), a few MiB in flight.
const DEPTH: usize = 4;

/// One step of the verifier's walk over the archive's files.
enum Piece {
    /// A file starts; `named` is the digest its name claims
    /// (`blobs/sha256/HEX`), if it claims one.
    Begin {
        named: Option<Sha256>,
        size: u64,
    },
    Data(Vec<u8>),
    End(Sha256),
}

/// What the uploading thread did, handed back when reading is over.
pub struct Held {
    /// The client, for the commit.
    pub client: Client,
    /// Blobs the holding repository has: uploaded by this run, or found
    /// there already (a run that was killed, an earlier push).
    pub blobs: HashSet<Sha256>,
}

/// The uploading thread and its end of the channel.
pub struct Holding {
    tx: Option<SyncSender<Piece>>,
    worker: Option<JoinHandle<Result<Held, RegistryError>>>,
}

impl Holding {
    /// Starts the thread that uploads into `repo` with `client`.
    pub fn start(client: Client, repo: String) -> Self {
        let (tx, rx) = sync_channel(DEPTH);
        let worker = std::thread::spawn(move || upload_all(client, &repo, &rx));
        Self {
            tx: Some(tx),
            worker: Some(worker),
        }
    }

    pub fn begin(&mut self, named: Option<Sha256>, size: u64) -> Result<(), RegistryError> {
        self.send(Piece::Begin { named, size })
    }

    pub fn data(&mut self, bytes: Vec<u8>) -> Result<(), RegistryError> {
        self.send(Piece::Data(bytes))
    }

    pub fn end(&mut self, sha256: Sha256) -> Result<(), RegistryError> {
        self.send(Piece::End(sha256))
    }

    /// Hands a piece to the thread; if it has stopped, its error.
    fn send(&mut self, piece: Piece) -> Result<(), RegistryError> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(piece).is_ok());
        if sent {
            return Ok(());
        }
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(stopped()),
        }
    }

    /// Waits for the uploads in flight to complete: reading is over.
    pub fn finish(mut self) -> Result<Held, RegistryError> {
        self.join()
    }

    /// Closes the channel; an upload cut short is abandoned (its session
    /// expires in the registry) and the thread's answer is returned.
    fn join(&mut self) -> Result<Held, RegistryError> {
        self.tx = None;
        match self.worker.take() {
            Some(worker) => worker.join().unwrap_or_else(|_| Err(stopped())),
            None => Err(stopped()),
        }
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        // An abort: stop the upload in flight and wait for the thread, so
        // that no request goes out after the push has ended.
        let _ = self.join();
    }
}

fn stopped() -> RegistryError {
    RegistryError::Usage("the upload to the holding repository stopped".into())
}

/// The thread: one upload per file, until the channel closes.
fn upload_all(mut client: Client, repo: &str, rx: &Receiver<Piece>) -> Result<Held, RegistryError> {
    let mut blobs = HashSet::new();
    while let Ok(piece) = rx.recv() {
        // Data outside a file cannot come; a file's pieces are taken below.
        let Piece::Begin { named, size } = piece else {
            continue;
        };
        let mut body = FileBody {
            rx,
            piece: Vec::new(),
            at: 0,
            end: None,
            closed: false,
        };
        if let Some(named) = named {
            // A blob the holding repository has already (a rerun after a
            // kill) is not sent again. Should its content differ from its
            // name, the bundle fails verification and nothing uses it.
            let digest = Digest::from(named).to_string();
            if blobs.contains(&named) || client.has_blob(repo, &digest)? {
                if !body.drain() {
                    break;
                }
                blobs.insert(named);
                continue;
            }
        }
        let session = match client.start_upload(repo, None)? {
            Upload::Session(session) => session,
            // Only a mount answers 201, and none was asked for.
            Upload::Mounted => return Err(stopped()),
        };
        let what = named.map_or_else(|| "a file".to_owned(), |d| Digest::from(d).to_string());
        // The bytes can be sent once; a registry that asks for credentials
        // only after them gets an error rather than a second copy.
        let mut once = Some(&mut body);
        let patched = client.patch(repo, &session, &what, size, || {
            once.take().ok_or_else(|| {
                std::io::Error::other("the registry refused a streamed upload after its bytes")
            })
        });
        let session = match patched {
            Ok(session) => session,
            // The push was stopped, or the bundle ended inside the file:
            // the session is abandoned (the registry expires it).
            Err(_) if body.closed => break,
            // Returning drops the channel, which stops the read.
            Err(e) => return Err(e),
        };
        // The client stops reading at the declared length, so the end may
        // still be queued.
        if body.end.is_none() && !body.drain() {
            break;
        }
        let Some(sha256) = body.end else { break };
        client.finish_upload(repo, &session, &Digest::from(sha256).to_string())?;
        blobs.insert(sha256);
    }
    Ok(Held { client, blobs })
}

/// One file's bytes as they arrive, as the body of its PATCH.
struct FileBody<'a> {
    rx: &'a Receiver<Piece>,
    piece: Vec<u8>,
    at: usize,
    /// The file's SHA-256, once it has ended.
    end: Option<Sha256>,
    /// The channel closed before the file ended.
    closed: bool,
}

impl FileBody<'_> {
    /// Takes the file's pieces without sending them; `false` if the
    /// channel closed first.
    fn drain(&mut self) -> bool {
        let mut sink = [0u8; 0];
        loop {
            self.piece.clear();
            self.at = 0;
            match self.read(&mut sink) {
                Ok(_) if self.end.is_some() => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }
}

impl Read for FileBody<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.piece.len() {
            if self.end.is_some() {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Piece::Data(bytes)) => {
                    self.piece = bytes;
                    self.at = 0;
                }
                Ok(Piece::End(sha256)) => self.end = Some(sha256),
                // Without an end, the file was cut short: the upload must
                // fail rather than end early.
                Ok(Piece::Begin { .. }) | Err(_) => {
                    self.closed = true;
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the bundle ended inside this file",
                    ));
                }
            }
        }
        let n = buf.len().min(self.piece.len() - self.at);
        buf[..n].copy_from_slice(&self.piece[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::mpsc::sync_channel;

    use verify_core::Sha256;

    use super::{FileBody, Piece};

    fn body(rx: &std::sync::mpsc::Receiver<Piece>) -> FileBody<'_> {
        FileBody {
            rx,
            piece: Vec::new(),
            at: 0,
            end: None,
            closed: false,
        }
    }

    #[test]
    fn a_file_reads_as_its_pieces_in_order_and_ends_with_its_digest() {
        let (tx, rx) = sync_channel(8);
        let sha = Sha256::from_hex(&"ab".repeat(32)).expect("hex");
        for piece in [&b"hello "[..], b"", b"streamed ", b"world"] {
            tx.send(Piece::Data(piece.to_vec())).expect("send");
        }
        tx.send(Piece::End(sha)).expect("send");
        let mut file = body(&rx);
        // Small reads cross piece boundaries.
        let mut out = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            let n = file.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"hello streamed world");
        assert_eq!(file.end, Some(sha));
        assert!(!file.closed);
    }

    #[test]
    fn a_file_cut_short_is_an_error_not_an_early_end() {
        let (tx, rx) = sync_channel(8);
        tx.send(Piece::Data(b"half".to_vec())).expect("send");
        drop(tx);
        let mut file = body(&rx);
        let mut out = Vec::new();
        let error = file.read_to_end(&mut out).expect_err("cut short");
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
        assert_eq!(out, b"half");
        assert!(file.closed);
        assert_eq!(file.end, None);
    }

    #[test]
    fn draining_skips_a_file_up_to_its_end() {
        let (tx, rx) = sync_channel(8);
        let sha = Sha256::from_hex(&"cd".repeat(32)).expect("hex");
        tx.send(Piece::Data(vec![7; 100])).expect("send");
        tx.send(Piece::End(sha)).expect("send");
        tx.send(Piece::Data(b"next file".to_vec())).expect("send");
        let mut file = body(&rx);
        assert!(file.drain());
        assert_eq!(file.end, Some(sha));
        // The next file's pieces are still queued.
        assert!(matches!(rx.try_recv(), Ok(Piece::Data(d)) if d == b"next file"));
        drop(tx);
        assert!(!body(&rx).drain());
    }
}
