//! The order of a speaker's passages for a question that names speakers
//! and no topic (郭慶說了什麼?, 唐文問了什麼?, 周伊麗的結語): worked out once
//! per generation, speakers and kind of question, and kept in the
//! generation's [`crate::memo::Memo`] as a compact list (a score and a
//! document address per passage), so that asking again, or paging, reads
//! only the passages shown. Working it out reads every passage of the
//! speakers once, one at a time, keeping none of their text.
//!
//! The order is the one [`crate::search`] gives any answer: by score, ties
//! by place in the archive; with several speakers, each one's best in turn.

use crate::conversation::flags;
use crate::engine::Loaded;
use std::sync::Arc;
use tantivy::query::Query;
use tantivy::{DocAddress, Searcher, TantivyDocument};

/// One passage in the order: its score and where to read it.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub score: f32,
    pub address: DocAddress,
}

/// What a speakers-only question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Only passages with this flag (the first or last turn), in the order said.
    pub flag: Option<u64>,
    /// The questions they asked come first, in the order asked.
    pub questions: bool,
}

/// The passages of `speakers` (matched by `filter`) in answer order, from
/// the memo or worked out now.
pub fn order(
    loaded: &Loaded,
    searcher: &Searcher,
    filter: &dyn Query,
    speakers: &[String],
    transcripts: &[String],
    wanted: Wanted,
) -> tantivy::Result<Arc<Vec<Placed>>> {
    // The filter is the speakers within the transcripts: both are the key.
    let key = format!(
        "{speakers:?}|{transcripts:?}|{:?}|{}",
        wanted.flag, wanted.questions
    );
    loaded.memo.get_or_try_insert(
        "speaker-passages",
        &key,
        |o: &Vec<Placed>| o.len() * std::mem::size_of::<Placed>() + key.len(),
        || work_out(loaded, searcher, filter, speakers, wanted),
    )
}

/// A passage while the order is worked out: what sorting needs.
struct Entry {
    placed: Placed,
    transcript: String,
    seq: u64,
    speaker: Option<usize>,
}

fn work_out(
    loaded: &Loaded,
    searcher: &Searcher,
    filter: &dyn Query,
    speakers: &[String],
    wanted: Wanted,
) -> tantivy::Result<Vec<Placed>> {
    let addrs = searcher.search(filter, &tantivy::collector::DocSetCollector)?;
    let mut entries = Vec::with_capacity(addrs.len());
    for address in addrs {
        let doc: TantivyDocument = searcher.doc(address)?;
        let p = loaded.generation.stored(&doc);
        let len = p.text.chars().count() as f32;
        let score = match wanted.flag {
            // In the turn asked about, in the order it was said.
            Some(flag) if p.is(flag) => 2.0 - p.paragraph as f32 / 1000.0,
            Some(_) => continue,
            // Every question asked ties, so they come in the order asked.
            None if wanted.questions && p.is(flags::PROMPT) => 2.0,
            None => len / (len + 100.0),
        };
        entries.push(Entry {
            placed: Placed { score, address },
            speaker: speakers
                .iter()
                .position(|s| p.speaker.as_deref() == Some(s.as_str())),
            transcript: p.transcript,
            seq: p.seq,
        });
    }
    entries.sort_by(|a, b| {
        b.placed
            .score
            .total_cmp(&a.placed.score)
            .then_with(|| a.transcript.cmp(&b.transcript))
            .then(a.seq.cmp(&b.seq))
    });
    if speakers.len() > 1 {
        entries = interleave(entries, speakers.len());
    }
    Ok(entries.into_iter().map(|e| e.placed).collect())
}

/// Each speaker's best in turn (each round by score), then any passage of
/// nobody named.
fn interleave(entries: Vec<Entry>, speakers: usize) -> Vec<Entry> {
    let mut queues: Vec<std::collections::VecDeque<Entry>> =
        (0..speakers).map(|_| Default::default()).collect();
    let mut others = Vec::new();
    for e in entries {
        match e.speaker {
            Some(i) => queues[i].push_back(e),
            None => others.push(e),
        }
    }
    let mut out = Vec::new();
    loop {
        let mut round: Vec<Entry> = queues.iter_mut().filter_map(|q| q.pop_front()).collect();
        if round.is_empty() {
            break;
        }
        round.sort_by(|a, b| b.placed.score.total_cmp(&a.placed.score));
        out.extend(round);
    }
    out.extend(others);
    out
}
