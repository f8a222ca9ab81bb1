//! On-disk record format of the queue's segment files.
//!
//! ```text
//! offset size  field
//! 0      4     magic  D7 52 54 51  (never valid UTF-8 at the start of JSON, so resync is safe)
//! 4      4     len    payload length, u32 LE
//! 8      4     crc    CRC-32 (IEEE) of bytes 4..8, 12..28 and the payload
//! 12     8     seq    u64 LE
//! 20     8     ts_ms  collection time, ms since the Unix epoch, i64 LE
//! 28     len   payload (the Sample as JSON)
//! ```

pub const MAGIC: [u8; 4] = [0xD7, 0x52, 0x54, 0x51];
pub const HEADER_LEN: usize = 28;
/// A record larger than this is treated as damage (a Sample is a few KiB).
pub const MAX_PAYLOAD: u32 = 8 * 1024 * 1024;

/// One decoded record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub len: u32,
    pub crc: u32,
    pub seq: u64,
    pub ts_ms: i64,
}

impl Header {
    pub fn record_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.len)
    }
}

fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&header[4..8]);
    h.update(&header[12..HEADER_LEN]);
    h.update(payload);
    h.finalize()
}

/// Encodes one record into a single buffer (written with one `write_all`).
pub fn encode(seq: u64, ts_ms: i64, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
    buf.extend_from_slice(&MAGIC);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(&ts_ms.to_le_bytes());
    buf.extend_from_slice(payload);
    let crc = checksum(&buf[..HEADER_LEN], payload);
    buf[8..12].copy_from_slice(&crc.to_le_bytes());
    buf
}

/// Parses a header from at least `HEADER_LEN` bytes; None when the magic or length is wrong.
pub fn parse_header(b: &[u8]) -> Option<Header> {
    if b.len() < HEADER_LEN || b[..4] != MAGIC {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let u64_at = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        a
    };
    let len = u32_at(4);
    if len > MAX_PAYLOAD {
        return None;
    }
    Some(Header {
        len,
        crc: u32_at(8),
        seq: u64::from_le_bytes(u64_at(12)),
        ts_ms: i64::from_le_bytes(u64_at(20)),
    })
}

/// True when `payload` matches the header's checksum (`header_bytes` are the raw 28 bytes).
pub fn verify(header_bytes: &[u8], h: &Header, payload: &[u8]) -> bool {
    payload.len() == h.len as usize && checksum(header_bytes, payload) == h.crc
}

/// Result of scanning a whole segment.
#[derive(Debug, Default)]
pub struct Scan {
    /// Valid records: header and offset of the record start.
    pub records: Vec<(u64, Header)>,
    /// Damaged regions skipped between valid records (each counted as one damaged record).
    pub damaged: u64,
    /// Offset after the last valid record; bytes after it are a torn or damaged tail.
    pub valid_end: u64,
}

/// Scans a segment's bytes, skipping damaged records by searching for the next magic that
/// starts a record whose checksum verifies.
pub fn scan(data: &[u8]) -> Scan {
    let mut out = Scan::default();
    let mut pos = 0usize;
    let mut in_damage = false;
    while pos < data.len() {
        if let Some(h) = record_at(data, pos) {
            if in_damage {
                out.damaged += 1;
                in_damage = false;
            }
            out.records.push((pos as u64, h));
            pos += h.record_len() as usize;
            out.valid_end = pos as u64;
        } else {
            in_damage = true;
            pos = match find_magic(data, pos + 1) {
                Some(p) => p,
                None => break,
            };
        }
    }
    // A damaged region at the very end is a torn tail (the record being written at a crash) or
    // damage we cannot tell from one; the caller truncates it and reports the bytes.
    out
}

fn record_at(data: &[u8], pos: usize) -> Option<Header> {
    let hb = data.get(pos..pos + HEADER_LEN)?;
    let h = parse_header(hb)?;
    let payload = data.get(pos + HEADER_LEN..pos + HEADER_LEN + h.len as usize)?;
    verify(hb, &h, payload).then_some(h)
}

fn find_magic(data: &[u8], from: usize) -> Option<usize> {
    if from >= data.len() {
        return None;
    }
    data[from..]
        .windows(4)
        .position(|w| w == MAGIC)
        .map(|p| p + from)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn encoded_record_scans_back() {
        let mut data = encode(1, 1000, b"{\"a\":1}");
        data.extend(encode(2, 2000, b"{}"));
        let s = scan(&data);
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[1].1.seq, 2);
        assert_eq!(s.records[1].1.ts_ms, 2000);
        assert_eq!(s.damaged, 0);
        assert_eq!(s.valid_end, data.len() as u64);
    }

    #[test]
    fn a_flipped_bit_loses_only_that_record() {
        let a = encode(1, 0, b"first");
        let b = encode(2, 0, b"second");
        let c = encode(3, 0, b"third");
        let mut data = [a.clone(), b.clone(), c].concat();
        data[a.len() + HEADER_LEN + 2] ^= 0x10;
        let s = scan(&data);
        let seqs: Vec<u64> = s.records.iter().map(|r| r.1.seq).collect();
        assert_eq!(seqs, vec![1, 3]);
        assert_eq!(s.damaged, 1);
    }

    #[test]
    fn a_torn_tail_ends_the_valid_region() {
        let a = encode(1, 0, b"first");
        let b = encode(2, 0, b"second");
        let data = [a.clone(), b[..b.len() - 3].to_vec()].concat();
        let s = scan(&data);
        assert_eq!(s.records.len(), 1);
        assert_eq!(s.valid_end, a.len() as u64);
    }
}
