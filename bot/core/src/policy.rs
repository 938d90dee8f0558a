//! Which actions a step may take. Only this module can build an
//! [`AuthorizedAction`], so anything the executor carries out has passed here.

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::manifest::Permission;

/// An action that passed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedAction(Action);

impl AuthorizedAction {
    pub fn action(&self) -> &Action {
        &self.0
    }

    pub fn into_action(self) -> Action {
        self.0
    }
}

/// An action that was dropped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denied {
    pub action: Action,
    pub reason: String,
}

/// The permission an action needs, if any (`fail` needs none: anyone may
/// stop the line).
pub fn required_permission(action: &Action) -> Option<Permission> {
    Some(match action {
        Action::Comment { .. } => Permission::Comment,
        Action::AddLabel { .. } | Action::RemoveLabel { .. } => Permission::Labels,
        Action::CheckRun(_) => Permission::Checks,
        Action::Artifact(_) => Permission::Artifacts,
        Action::KvSet { .. } => Permission::Kv,
        Action::RegisterVersion(_) | Action::AssignStage { .. } => Permission::Registry,
        Action::Fail { .. } => return None,
    })
}

/// Split `actions` into those `granted` allows and those it does not.
pub fn authorize(
    step: &str,
    granted: &[Permission],
    actions: Vec<Action>,
) -> (Vec<AuthorizedAction>, Vec<Denied>) {
    let mut allowed = Vec::with_capacity(actions.len());
    let mut denied = Vec::new();
    for action in actions {
        match required_permission(&action) {
            Some(needed) if !granted.contains(&needed) => {
                let reason = format!(
                    "step `{step}` was not granted `{needed}`, which `{}` needs; add it to the step's `permissions:`",
                    action.kind()
                );
                denied.push(Denied { action, reason });
            }
            _ => allowed.push(AuthorizedAction(action)),
        }
    }
    (allowed, denied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str) -> Action {
        Action::AddLabel {
            label: name.into(),
            number: None,
        }
    }

    #[test]
    fn actions_without_permission_are_denied_with_a_reason() {
        let actions = vec![
            label("size/XS"),
            Action::Comment {
                body: "hi".into(),
                number: None,
            },
            Action::Fail {
                reason: "stop".into(),
            },
        ];
        let (allowed, denied) = authorize("size", &[Permission::Labels], actions);
        let kinds: Vec<_> = allowed.iter().map(|a| a.action().kind()).collect();
        assert_eq!(kinds, ["add-label", "fail"]);
        assert_eq!(denied.len(), 1);
        assert!(
            denied[0].reason.contains("`comment`"),
            "{}",
            denied[0].reason
        );
    }
}
