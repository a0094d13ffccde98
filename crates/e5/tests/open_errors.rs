//! Truncated and altered copies of the real model file must be refused
//! with a message that says what is wrong (the synthetic-file tests cover
//! the same without the model).

mod common;

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use e5::Model;

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "forumbot-e5-real-{}-{name}.bin",
        std::process::id()
    ))
}

fn open_err(path: &Path) -> String {
    match Model::open(path) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

/// `(offset of the directory entry's dtype byte, data offset, nbytes)` of a tensor.
fn entry(file: &[u8], name: &str) -> (usize, u64, u64) {
    let u = |at: usize, n: usize| {
        file[at..at + n]
            .iter()
            .rev()
            .fold(0u64, |a, &b| a << 8 | u64::from(b))
    };
    let mut p = 4_632_322; // the directory, per FORMAT.md
    let n = u(p, 4);
    p += 4;
    for _ in 0..n {
        let len = u(p, 2) as usize;
        let this = &file[p + 2..p + 2 + len];
        p += 2 + len;
        if this == name.as_bytes() {
            return (p, u(p + 5, 8), u(p + 13, 8));
        }
        p += 21;
    }
    panic!("{name} not in the directory");
}

fn head(path: &Path, n: u64) -> Vec<u8> {
    let mut v = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .take(n)
        .read_to_end(&mut v)
        .unwrap();
    v
}

#[test]
fn truncated_copies_are_refused() {
    let Some(path) = common::model_path("truncated_copies_are_refused") else {
        return;
    };
    let dir = head(&path, 4_700_000);
    let (_, fi_at, fi_len) = entry(&dir, "l3.fi.w");
    let cases = [
        (
            30,
            "truncated: header ends at byte 44 past the file's end 30".to_string(),
        ),
        (
            1_000_000,
            "truncated: tokenizer piece offsets ends at byte 1000084 past the file's end 1000000"
                .into(),
        ),
        (
            3_000_000,
            "truncated: tokenizer pieces ends at byte 4581437 past the file's end 3000000".into(),
        ),
        (
            4_600_000,
            "truncated: normalisation table ends at byte 4632322".into(),
        ),
        (4_635_000, "truncated: tensor directory ends at byte".into()),
        (
            fi_at + 100,
            format!(
                "truncated: tensor l3.fi.w ends at byte {} past the file's end {}",
                fi_at + fi_len,
                fi_at + 100
            ),
        ),
        (
            e5::FILE_SIZE - 1,
            "truncated: tensor l11.oln.b ends at byte 71622400 past the file's end 71622399".into(),
        ),
    ];
    let tmp = temp("cut");
    for (len, want) in cases {
        let mut out = std::fs::File::create(&tmp).unwrap();
        std::io::copy(&mut std::fs::File::open(&path).unwrap().take(len), &mut out).unwrap();
        drop(out);
        let msg = open_err(&tmp);
        assert!(
            msg.contains(&want),
            "cut at {len}: {msg:?}, expected {want:?}"
        );
    }
    std::fs::remove_file(&tmp).unwrap();
}

#[test]
fn altered_copies_are_refused() {
    let Some(path) = common::model_path("altered_copies_are_refused") else {
        return;
    };
    let tmp = temp("altered");
    std::fs::copy(&path, &tmp).unwrap();
    Model::open(&tmp).expect("the unaltered copy opens");
    let dir = head(&path, 4_700_000);
    let (fo_b, ..) = entry(&dir, "l5.fo.b");
    let (fi_w, ..) = entry(&dir, "l3.fi.w");
    let (ffo_w, at, len) = entry(&dir, "l11.fo.w");
    let moved = e5::FILE_SIZE - 1000;
    let cases: Vec<(usize, Vec<u8>, String)> = vec![
        (
            0,
            b"E5S2".to_vec(),
            "not an e5 model file: magic \"E5S2\", expected \"E5S1\"".into(),
        ),
        (
            4,
            0u32.to_le_bytes().to_vec(),
            "unsupported e5 model file version 0, expected 1".into(),
        ),
        (
            12,
            6i32.to_le_bytes().to_vec(),
            "header: NL is 6, expected 12".into(),
        ),
        (
            44,
            300_000i32.to_le_bytes().to_vec(),
            "tokenizer section: 300000 pieces".into(),
        ),
        (
            64,
            2_581_346u64.to_le_bytes().to_vec(),
            "piece offsets span 0..2581345, expected 0..2581346".into(),
        ),
        (
            fo_b,
            vec![1],
            "tensor l5.fo.b: dtype 1 (Q4_0), expected 0 (f32)".into(),
        ),
        (
            fi_w + 13,
            331_794u64.to_le_bytes().to_vec(),
            "tensor l3.fi.w: 331794 bytes, expected 331776".into(),
        ),
        (
            ffo_w + 5,
            moved.to_le_bytes().to_vec(),
            format!(
                "truncated: tensor l11.fo.w ends at byte {} past the file's end 71622400",
                moved + len
            ),
        ),
    ];
    assert!(at + len <= e5::FILE_SIZE);
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&tmp)
        .unwrap();
    for (at, bytes, want) in cases {
        let mut orig = vec![0; bytes.len()];
        f.seek(SeekFrom::Start(at as u64)).unwrap();
        f.read_exact(&mut orig).unwrap();
        f.seek(SeekFrom::Start(at as u64)).unwrap();
        f.write_all(&bytes).unwrap();
        f.flush().unwrap();
        let msg = open_err(&tmp);
        assert!(msg.contains(&want), "at {at}: {msg:?}, expected {want:?}");
        f.seek(SeekFrom::Start(at as u64)).unwrap();
        f.write_all(&orig).unwrap();
    }
    drop(f);
    Model::open(&tmp).expect("restored copy opens");
    std::fs::remove_file(&tmp).unwrap();
}
