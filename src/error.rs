//! Whose failure is it: every error type of the library is classified here,
//! once, as the user's to fix (with the hint a chat face shows under it),
//! nobody's (another build holds the index: try again), or ours (an
//! internal error). Every face (command line, console, Discord) shows
//! failures through [`Failure`], so the same error reads the same way
//! everywhere and maps to the same exit code.

use crate::forums::UnknownTranscript;
use crate::index::IndexError;
use crate::ingest::IngestError;
use crate::search::AskError;
use crate::summary::SummaryError;

/// Who has to act on a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The input is wrong: the user can fix it (exit 2).
    User,
    /// Nobody's fault: another build holds the index; try again later (exit 1).
    Busy,
    /// A fault of ours (exit 1): logged with its cause chain.
    Internal,
}

/// The one classification of an error type. Implemented here for the
/// library's errors; a face implements it for its own (Discord downloads).
pub trait Classify: std::error::Error + Send + Sync + 'static {
    fn kind(&self) -> Kind;

    /// What the user can do about a user error, in Chinese and English, for
    /// the chat faces (shown after the message). The command line prints the
    /// message alone: its messages already name the option to change.
    fn hint(&self) -> Option<&'static str> {
        None
    }
}

/// Shown after an unknown speaker of a question, on every face (Discord,
/// the console): the message lists the speakers to pick from.
pub const HINT_ASK_SPEAKER: &str = "講者不在名單上:請改用上面列出的講者(姓名、別名或拼音),或不指定講者。\nUse one of the speakers listed above (name, alias or pinyin), or name none.";
/// Shown after a name no speaker (or several) answers to.
pub const HINT_SPEAKER_NAME: &str = "請輸入講者姓名、別名或拼音(例如 郭慶、郭總、Guo Qing)。\nType a speaker's name, alias or pinyin.";
/// Shown after a transcript name that fits no transcript (or several).
pub const HINT_TRANSCRIPT: &str = "請從自動完成清單中選一份逐字稿,或輸入它的 id、標題中的詞或日期(例如 2018)。\nPick a transcript from the suggestions, or give its id, words of its title, or its date.";
/// Shown after refused transcripts: the old index still answers.
pub const HINT_REFUSED: &str =
    "索引未變更,仍使用原來的索引。The index is unchanged: fix the files and reindex again.";
/// Shown when there is no transcript at all.
pub const HINT_NO_TRANSCRIPTS: &str = "索引未變更:請先加入一份逐字稿(版主可用 /reindex 上傳)。The index is unchanged: add a transcript first (moderators can upload one with /reindex).";
/// Shown after a refused upload.
pub const HINT_UPLOAD: &str =
    "沒有任何變更,原來的逐字稿照常回答。Nothing was changed: fix the file and upload it again.";
/// Shown after an upload of a transcript that is already indexed as it is.
pub const HINT_DUPLICATE: &str =
    "沒有任何變更:這份逐字稿已經收錄,內容相同,不必再上傳。Nothing was changed: this transcript is already indexed with the same text; no need to upload it again.";
/// Shown after a removal (or undo) that could not be done.
pub const HINT_REMOVE: &str =
    "沒有任何變更;/transcripts 列出每份逐字稿的 id。Nothing was changed; /transcripts lists every transcript's id.";

impl Classify for IndexError {
    fn kind(&self) -> Kind {
        match self {
            IndexError::Refused(_) | IndexError::NoTranscripts(_) => Kind::User,
            IndexError::Busy { .. } => Kind::Busy,
            IndexError::Io { .. } | IndexError::Tantivy(_) | IndexError::Corrupt { .. } => {
                Kind::Internal
            }
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            IndexError::Refused(_) => Some(HINT_REFUSED),
            IndexError::NoTranscripts(_) => Some(HINT_NO_TRANSCRIPTS),
            _ => None,
        }
    }
}

impl Classify for AskError {
    fn kind(&self) -> Kind {
        match self {
            AskError::Empty
            | AskError::TooLong { .. }
            | AskError::UnknownSpeaker { .. }
            | AskError::UnknownTranscript(_) => Kind::User,
            AskError::Index(_) => Kind::Internal,
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            AskError::UnknownSpeaker { .. } => Some(HINT_ASK_SPEAKER),
            AskError::UnknownTranscript(_) => Some(HINT_TRANSCRIPT),
            _ => None,
        }
    }
}

impl Classify for UnknownTranscript {
    fn kind(&self) -> Kind {
        Kind::User
    }

    fn hint(&self) -> Option<&'static str> {
        Some(HINT_TRANSCRIPT)
    }
}

impl Classify for SummaryError {
    fn kind(&self) -> Kind {
        match self {
            SummaryError::UnknownSpeaker { .. } => Kind::User,
            SummaryError::Catalog(e) => e.kind(),
            SummaryError::Index(_) => Kind::Internal,
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            SummaryError::UnknownSpeaker { .. } => Some(HINT_SPEAKER_NAME),
            SummaryError::Catalog(e) => e.hint(),
            SummaryError::Index(_) => None,
        }
    }
}

impl Classify for IngestError {
    fn kind(&self) -> Kind {
        match self {
            IngestError::TooLarge { .. }
            | IngestError::Invalid(_)
            | IngestError::DuplicateId { .. }
            | IngestError::AlreadyIndexed { .. }
            | IngestError::AmbiguousTitle { .. }
            | IngestError::AliasIsAName { .. }
            | IngestError::UnknownTranscript { .. }
            | IngestError::OnlyTranscript { .. }
            | IngestError::NothingToUndo { .. } => Kind::User,
            IngestError::Index(e) => e.kind(),
            IngestError::Io(_) => Kind::Internal,
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            // Nothing is wrong with the file: it is there already.
            IngestError::AlreadyIndexed { .. } => Some(HINT_DUPLICATE),
            IngestError::UnknownTranscript { .. }
            | IngestError::OnlyTranscript { .. }
            | IngestError::NothingToUndo { .. } => Some(HINT_REMOVE),
            _ => match self.kind() {
                Kind::User => Some(HINT_UPLOAD),
                Kind::Busy | Kind::Internal => None,
            },
        }
    }
}

/// A failure as the faces show it.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The user's to fix: the message, and what to do for the chat faces.
    #[error("{message}")]
    User {
        message: String,
        hint: Option<&'static str>,
    },
    /// Try again later.
    #[error("{0}")]
    Busy(String),
    /// Ours: reported with its cause chain, never shown in full to a user.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl<E: Classify> From<E> for Failure {
    fn from(e: E) -> Self {
        match e.kind() {
            Kind::User => Failure::User {
                message: e.to_string(),
                hint: e.hint(),
            },
            Kind::Busy => Failure::Busy(e.to_string()),
            Kind::Internal => Failure::Internal(e.into()),
        }
    }
}

impl Failure {
    /// A user error with no hint beyond its message.
    pub fn user(message: impl Into<String>) -> Self {
        Failure::User {
            message: message.into(),
            hint: None,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Failure::User { .. } => Kind::User,
            Failure::Busy(_) => Kind::Busy,
            Failure::Internal(_) => Kind::Internal,
        }
    }

    pub fn is_user(&self) -> bool {
        self.kind() == Kind::User
    }

    /// The process exit code: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self.kind() {
            Kind::User => 2,
            Kind::Busy | Kind::Internal => 1,
        }
    }

    /// What a chat face tells the user for a user or busy failure: the
    /// message, then the hint after an empty line. `None` for an internal
    /// one, which gets an apology with an error id instead.
    pub fn user_text(&self) -> Option<String> {
        match self {
            Failure::User {
                message,
                hint: Some(hint),
            } => Some(format!("{message}\n\n{hint}")),
            Failure::User {
                message,
                hint: None,
            } => Some(message.clone()),
            Failure::Busy(message) => Some(message.clone()),
            Failure::Internal(_) => None,
        }
    }

    /// Adds what was being done to an internal failure's cause chain.
    pub fn context(self, during: impl Into<String>) -> Self {
        match self {
            Failure::Internal(e) => Failure::Internal(e.context(during.into())),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speakers::{NameProblem, UnknownSpeaker};
    use crate::transcript::TranscriptError;
    use std::path::PathBuf;
    use std::time::Duration;

    fn io() -> std::io::Error {
        std::io::Error::other("disk on fire")
    }

    fn empty() -> TranscriptError {
        TranscriptError::Empty {
            path: PathBuf::from("x.txt"),
        }
    }

    fn refused() -> IndexError {
        IndexError::Refused(vec![empty()])
    }

    #[test]
    fn index_errors_are_classified_once() {
        let cases: Vec<(IndexError, Kind)> = vec![
            (refused(), Kind::User),
            (IndexError::NoTranscripts(PathBuf::from("t")), Kind::User),
            (
                IndexError::Busy {
                    waited: Duration::from_secs(3),
                },
                Kind::Busy,
            ),
            (
                IndexError::Io {
                    path: PathBuf::from("x"),
                    source: io(),
                },
                Kind::Internal,
            ),
            (
                IndexError::Corrupt {
                    path: PathBuf::from("x"),
                    message: "bad".into(),
                },
                Kind::Internal,
            ),
        ];
        for (e, kind) in cases {
            let shown = e.to_string();
            assert_eq!(e.kind(), kind, "{shown}");
            let f = Failure::from(e);
            assert_eq!(f.kind(), kind, "{shown}");
            assert_eq!(f.exit_code(), if kind == Kind::User { 2 } else { 1 });
            match kind {
                Kind::Internal => assert_eq!(f.user_text(), None),
                _ => assert!(f.user_text().unwrap().starts_with(&shown), "{f}"),
            }
        }
    }

    #[test]
    fn no_transcripts_is_a_user_error_with_a_hint_to_add_one_everywhere() {
        let direct = Failure::from(IndexError::NoTranscripts(PathBuf::from("data/t")));
        let text = direct.user_text().unwrap();
        assert!(direct.is_user());
        assert!(text.contains("add a .txt transcript"), "{text}");
        assert!(text.ends_with(HINT_NO_TRANSCRIPTS), "{text}");
        // Through an upload or a summary it is the same failure.
        for f in [
            Failure::from(IngestError::Index(IndexError::NoTranscripts("t".into()))),
            Failure::from(SummaryError::Catalog(IndexError::NoTranscripts("t".into()))),
        ] {
            assert!(f.is_user(), "{f}");
            assert_eq!(f.exit_code(), 2);
        }
    }

    #[test]
    fn ask_errors_are_the_askers_except_the_index() {
        let unknown = AskError::from(UnknownSpeaker {
            name: "某人".into(),
            known: vec!["郭慶".into()],
            problem: NameProblem::Unknown { close: false },
        });
        let f = Failure::from(unknown);
        assert!(f.is_user());
        assert!(f.user_text().unwrap().ends_with(HINT_ASK_SPEAKER));
        // Every face shows it: no wording of Discord's autocomplete.
        for discord_only in ["自動完成", "suggestions", "option"] {
            assert!(!HINT_ASK_SPEAKER.contains(discord_only), "{discord_only}");
        }
        assert!(Failure::from(AskError::Empty).is_user());
        assert!(Failure::from(AskError::TooLong { got: 9, max: 1 }).is_user());
        let broken = AskError::Index(tantivy::TantivyError::InvalidArgument("x".into()));
        assert_eq!(Failure::from(broken).kind(), Kind::Internal);
    }

    #[test]
    fn summary_and_upload_errors_carry_their_hints() {
        let unknown = SummaryError::from(UnknownSpeaker {
            name: "某人".into(),
            known: vec![],
            problem: NameProblem::Unknown { close: false },
        });
        assert!(Failure::from(unknown)
            .user_text()
            .unwrap()
            .ends_with(HINT_SPEAKER_NAME));
        for e in [
            IngestError::Invalid(empty()),
            IngestError::TooLarge {
                name: "x".into(),
                size: 2,
                max: 1,
            },
            IngestError::Index(refused()),
        ] {
            let f = Failure::from(e);
            assert!(f.user_text().unwrap().ends_with(HINT_UPLOAD), "{f}");
        }
        // A duplicate needs no fixing: its hint does not say to fix it.
        let duplicate = Failure::from(IngestError::AlreadyIndexed {
            name: "a.txt".into(),
            file: "b.txt".into(),
        });
        let text = duplicate.user_text().unwrap();
        assert!(text.ends_with(HINT_DUPLICATE), "{text}");
        assert!(!text.contains("fix"), "{text}");
        assert_eq!(Failure::from(IngestError::Io(io())).kind(), Kind::Internal);
        // A duplicate is not the file's fault: no "fix the file".
        let duplicate = Failure::from(IngestError::AlreadyIndexed {
            name: "x.txt".into(),
            file: "x.txt".into(),
        });
        assert!(duplicate.is_user());
        let text = duplicate.user_text().unwrap();
        assert!(
            text.ends_with(HINT_DUPLICATE) && !text.contains("fix the file"),
            "{text}"
        );
        let unknown = Failure::from(IngestError::UnknownTranscript {
            id: "x".into(),
            known: vec!["a".into()],
        });
        assert!(unknown.user_text().unwrap().ends_with(HINT_REMOVE));
        let busy = IngestError::Index(IndexError::Busy {
            waited: Duration::ZERO,
        });
        assert_eq!(Failure::from(busy).kind(), Kind::Busy);
    }

    #[test]
    fn internal_failures_keep_what_was_being_done() {
        let f = Failure::from(IngestError::Io(io())).context("indexing the upload x.txt");
        let Failure::Internal(e) = &f else {
            panic!("{f:?}")
        };
        let chain = format!("{e:#}");
        assert!(chain.contains("indexing the upload x.txt") && chain.contains("disk on fire"));
        // A user failure is not wrapped.
        let user = Failure::user("bad").context("ignored");
        assert_eq!(user.user_text().as_deref(), Some("bad"));
    }
}
