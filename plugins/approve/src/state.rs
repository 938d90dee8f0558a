//! What the plugin remembers about a pull request between runs: who said
//! `/approve`, kept in the kv store as JSON under [`key`].

use andon_pdk::RepoPermission;
use serde::{Deserialize, Serialize};

/// The kv key of pull request `number`'s state.
pub fn key(number: u64) -> String {
    format!("pr/{number}/approvers")
}

/// A recorded `/approve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Normalised login.
    pub login: String,
    /// The approver's repository permission when they approved, for files
    /// no OWNERS file covers (`no_owners_approver_permission`).
    pub permission: String,
}

impl Approval {
    pub fn permission(&self) -> RepoPermission {
        RepoPermission::parse(&self.permission)
    }
}

/// A pull request's approvals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// Sorted by login, one per login.
    pub approvals: Vec<Approval>,
    /// The pull request's author (normalised), once a pull request event
    /// told it: comment events name the commenter instead.
    pub author: Option<String>,
    /// The author said `/approve cancel`: no implicit self-approval.
    pub author_cancelled: bool,
}

impl State {
    /// Reads a stored state. A value that is not a state (written by hand,
    /// or by an older version) is reported and read as no approvals.
    pub fn decode(bytes: &[u8]) -> Result<State, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("stored approvals are unreadable: {e}"))
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a state of strings and booleans serialises")
    }

    pub fn approved_by(&self, login: &str) -> bool {
        self.approvals.iter().any(|a| a.login == login)
    }

    /// Records `/approve` by `login`, replacing an earlier one.
    pub fn approve(&mut self, login: &str, permission: RepoPermission) {
        self.withdraw(login);
        let approval = Approval {
            login: login.to_string(),
            permission: permission.as_str().to_string(),
        };
        let at = self.approvals.partition_point(|a| a.login.as_str() < login);
        self.approvals.insert(at, approval);
    }

    /// Records `/approve cancel` by `login`; true when they had approved.
    pub fn withdraw(&mut self, login: &str) -> bool {
        let before = self.approvals.len();
        self.approvals.retain(|a| a.login != login);
        before != self.approvals.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let mut state = State {
            author: Some("zed".into()),
            author_cancelled: true,
            ..State::default()
        };
        state.approve("carol", RepoPermission::Write);
        state.approve("alice", RepoPermission::Read);
        state.approve("carol", RepoPermission::Admin);
        state.approve("zed", RepoPermission::Write);
        let logins: Vec<&str> = state.approvals.iter().map(|a| a.login.as_str()).collect();
        assert_eq!(logins, ["alice", "carol", "zed"]);
        assert_eq!(state.approvals[1].permission(), RepoPermission::Admin);
        assert_eq!(State::decode(&state.encode()), Ok(state.clone()));
        assert!(state.withdraw("alice"));
        assert!(!state.withdraw("alice"));
        assert!(!state.approved_by("alice"));
    }

    #[test]
    fn decoding_is_lenient_about_missing_fields_only() {
        assert_eq!(State::decode(b"{}"), Ok(State::default()));
        assert!(State::decode(b"[\"alice\"]").is_err());
        assert!(State::decode(b"\xff").is_err());
        assert_eq!(key(7), "pr/7/approvers");
    }
}
