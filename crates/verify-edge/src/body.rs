//! Reading a request body in large pieces into one reused buffer.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ReadableStream, ReadableStreamByobReader, ReadableStreamGetReaderOptions,
    ReadableStreamReaderMode,
};

/// Bytes asked for per read. Per-read costs (a promise, a JS↔wasm copy)
/// vanish at this size; the verifier's memory is unaffected.
pub const CHUNK: u32 = 4 << 20;

/// Feeds `stream` to `sink` in pieces of up to [`CHUNK`] until it ends or
/// `sink` returns false (then the rest is cancelled, not read).
pub async fn for_each_chunk(
    stream: ReadableStream,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> Result<u64, JsValue> {
    let options = ReadableStreamGetReaderOptions::new();
    options.set_mode(ReadableStreamReaderMode::Byob);
    let reader: ReadableStreamByobReader =
        stream.get_reader_with_options(&options).unchecked_into();
    // workerd's extension: resolve only once at least `min` bytes are in.
    let read_at_least = Reflect::get(&reader, &JsValue::from_str("readAtLeast"))?
        .dyn_into::<Function>()
        .ok();
    let mut view = Uint8Array::new_with_length(CHUNK);
    let mut buf = vec![0u8; CHUNK as usize];
    let mut total = 0u64;
    loop {
        let pending = match &read_at_least {
            Some(f) => f.call2(&reader, &JsValue::from(CHUNK), &view)?,
            None => reader.read_with_array_buffer_view(&view).into(),
        };
        let result = JsFuture::from(Promise::from(pending)).await?;
        let done = Reflect::get(&result, &JsValue::from_str("done"))?.is_truthy();
        let value = Reflect::get(&result, &JsValue::from_str("value"))?;
        if value.is_undefined() {
            break;
        }
        let chunk: Uint8Array = value.unchecked_into();
        let n = chunk.length() as usize;
        if n > 0 {
            chunk.copy_to(&mut buf[..n]);
            total += n as u64;
            if !sink(&buf[..n]) {
                let _ = reader.cancel();
                break;
            }
        }
        if done {
            break;
        }
        // The read transferred our buffer into `chunk`; take it back whole.
        view = Uint8Array::new(&chunk.buffer());
    }
    Ok(total)
}
