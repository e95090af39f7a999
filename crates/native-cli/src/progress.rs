//! Progress on a terminal: the bundle as a whole, and during `load`/`push`
//! the file being imported. Nothing is drawn unless stderr is a terminal.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use verify_core::{ImportPlan, Sha256};

use crate::import::{FileTarget, ImportError, ImportSummary};
use crate::untrusted::Untrusted;

pub struct Progress {
    multi: MultiProgress,
    bundle: ProgressBar,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Progress {
    /// Bars for a bundle of `total` bytes, or `None` when they must not show.
    pub fn new(total: u64, show: bool) -> Option<Self> {
        if !show {
            return None;
        }
        let multi = MultiProgress::new();
        let bundle = multi.add(ProgressBar::new(total));
        bundle.set_style(style(
            "{spinner} [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        ));
        bundle.enable_steady_tick(Duration::from_millis(200));
        Some(Self { multi, bundle })
    }

    pub fn set_position(&self, bytes: u64) {
        self.bundle.set_position(bytes);
    }

    /// A second line that follows the file being imported.
    pub fn file_bar(&self) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(0));
        bar.set_style(style("  {msg:40!} [{bar:30}] {bytes}/{total_bytes}"));
        bar
    }

    pub fn finish(self) {
        let _ = self.multi.clear();
    }
}

/// A target that shows, on its own bar, which file it is taking in.
pub struct Watched<'a> {
    pub inner: &'a mut dyn FileTarget,
    pub bar: Option<ProgressBar>,
}

impl FileTarget for Watched<'_> {
    fn begin_file(&mut self, path: &str, size: u64) -> Result<(), ImportError> {
        if let Some(bar) = &self.bar {
            bar.set_length(size);
            bar.set_position(0);
            bar.set_message(Untrusted(path).to_string());
        }
        self.inner.begin_file(path, size)
    }

    fn file_data(&mut self, bytes: bytes::Bytes) -> Result<(), ImportError> {
        if let Some(bar) = &self.bar {
            bar.inc(bytes.len() as u64);
        }
        self.inner.file_data(bytes)
    }

    fn end_file(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        self.inner.end_file(sha256)
    }

    fn commit(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        if let Some(bar) = &self.bar {
            bar.set_length(0);
            bar.set_message(format!(
                "verified; importing {} image(s)",
                plan.images().len()
            ));
        }
        self.inner.commit(plan)
    }

    fn abort(&mut self) {
        self.inner.abort();
    }
}
