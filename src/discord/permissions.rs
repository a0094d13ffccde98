//! Who may run moderator commands (`/reindex`, `/remove`). Discord hides the command
//! from members without Manage Server (`default_member_permissions`), but a
//! server admin can change that per channel or role, so the bot decides again
//! on every call from what the interaction itself carries, and tells the
//! others why not.

use crate::reply::{self, Reply};
use serenity::model::id::RoleId;
use serenity::model::Permissions;

/// The answer to somebody who may not reindex.
pub fn not_a_moderator() -> Reply {
    reply::user_error(
        "只有版主可以重建索引(需要「管理伺服器」權限或版主身分組)。\n\
         Only moderators can reindex (Manage Server permission or a moderator role). \
         Ask a moderator to upload the transcript.",
    )
}

/// The answer to somebody who may not remove transcripts.
pub fn not_a_moderator_to_remove() -> Reply {
    reply::user_error(
        "只有版主可以移除逐字稿(需要「管理伺服器」權限或版主身分組)。\n\
         Only moderators can remove transcripts (Manage Server permission or a moderator role).",
    )
}

/// Whether a member with these channel permissions and roles is a moderator:
/// Manage Server or Administrator, or one of the configured roles.
pub fn is_moderator(
    permissions: Option<Permissions>,
    roles: &[RoleId],
    moderator_role_ids: &[u64],
) -> bool {
    let by_permission =
        permissions.is_some_and(|p| p.contains(Permissions::MANAGE_GUILD) || p.administrator());
    let by_role = roles.iter().any(|r| moderator_role_ids.contains(&r.get()));
    by_permission || by_role
}

/// The interaction's member, if any (none in a DM: nobody moderates a DM).
pub fn member_is_moderator(
    member: Option<&serenity::model::guild::Member>,
    moderator_role_ids: &[u64],
) -> bool {
    member.is_some_and(|m| is_moderator(m.permissions, &m.roles, moderator_role_ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_or_role_makes_a_moderator() {
        let everyday = Permissions::SEND_MESSAGES | Permissions::USE_APPLICATION_COMMANDS;
        let role = RoleId::new(42);
        assert!(!is_moderator(Some(everyday), &[], &[42]));
        assert!(!is_moderator(None, &[RoleId::new(7)], &[42]));
        assert!(is_moderator(Some(everyday), &[role], &[42]));
        assert!(is_moderator(
            Some(everyday | Permissions::MANAGE_GUILD),
            &[],
            &[]
        ));
        assert!(is_moderator(Some(Permissions::ADMINISTRATOR), &[], &[]));
        // Manage Messages is not enough: reindexing changes the whole server's bot.
        assert!(!is_moderator(Some(Permissions::MANAGE_MESSAGES), &[], &[]));
    }
}
