//! The model registry in `andon serve`: registry actions of a successful
//! run and `/andon promote` become tags created through GitHub's git data
//! API (the outbox's `Tag` effect). The index of the repository's tags is
//! synced from the mirror, and each tag andon asks for is indexed at once
//! (as pending), so the next version number and stage counter account for
//! tags the executor has not created yet.

use andon_core::action::Action;
use andon_core::command::CommandLine;
use andon_core::effect::Effect;
use andon_core::registry::{
    self, IndexedTag, NewTag, PromotePolicy, REGISTRY_CONFIG, Registration,
};
use andon_core::run::{RunRecord, Status};
use andon_git::Repo;
use andon_github::RepoPermission;
use andon_store::RegistryIndex;

use super::Job;
use crate::model::{self, Provenance};

/// The tagger of tags andon creates through the API.
const TAGGER: (&str, &str) = ("andon", "andon@users.noreply.github.com");

impl Job<'_> {
    /// The repository's registry tags, the index synced from `repo`.
    fn registry_tags(&self, repo: &Repo) -> anyhow::Result<Vec<IndexedTag>> {
        model::sync_index(&self.context.store, self.repository(), repo)
    }

    /// Queue the creation of `tag` and index it as pending.
    fn queue_tag(
        &mut self,
        key: String,
        run: Option<usize>,
        tag: NewTag,
        tags: &mut Vec<IndexedTag>,
    ) -> anyhow::Result<()> {
        let now = crate::inputs::now_micros() / 1_000_000;
        // GTO orders events by tagger time: never before the newest tag.
        let time = now.max(tags.iter().map(|t| t.time).max().unwrap_or(0));
        let pending = IndexedTag {
            name: tag.name.clone(),
            target: String::new(),
            commit: tag.commit.clone(),
            time,
            author: TAGGER.0.into(),
            author_email: TAGGER.1.into(),
            message: tag.message.clone(),
        };
        self.context
            .store
            .registry_put(self.repository(), &pending)?;
        tags.push(pending);
        let effect = self.planned(
            key,
            Effect::Tag {
                name: tag.name,
                commit: tag.commit,
                message: tag.message,
                tagger_name: TAGGER.0.into(),
                tagger_email: TAGGER.1.into(),
                time,
            },
        );
        self.effects.push((run, effect));
        Ok(())
    }

    /// The tags a finished run's `register-version` and `assign-stage`
    /// actions ask for. Only a run that succeeded releases anything; what
    /// cannot be done is logged with the reason.
    pub(super) fn registry_effects(
        &mut self,
        repo: &Repo,
        run: &RunRecord,
        index: usize,
    ) -> anyhow::Result<()> {
        let actions: Vec<(&str, usize, &Action)> = run
            .steps
            .iter()
            .flat_map(|s| {
                s.actions
                    .iter()
                    .enumerate()
                    .map(move |(n, a)| (s.id.as_str(), n, a))
            })
            .filter(|(_, _, a)| {
                matches!(a, Action::RegisterVersion(_) | Action::AssignStage { .. })
            })
            .collect();
        if actions.is_empty() {
            return Ok(());
        }
        if run.status != Status::Success {
            tracing::warn!(
                workflow = run.workflow,
                "registry actions not carried out: the run did not succeed"
            );
            return Ok(());
        }
        let mut tags = self.registry_tags(repo)?;
        let provenance = Provenance {
            run: format!("{}/{index}", self.prefix),
            workflow: Some(run.workflow.clone()),
        };
        for (step, n, action) in actions {
            let registry = registry::registry_of(&tags);
            let planned = match action {
                Action::RegisterVersion(register) => {
                    let lineage = model::lineage_for(repo, register, &run.event.head, &provenance)?;
                    registry::plan_register(
                        &registry,
                        &register.name,
                        register.version.as_deref(),
                        register.bump,
                        &run.event.head,
                        &lineage,
                    )
                    .map(|r| match r {
                        Registration::Tag { tag, .. } => Some(tag),
                        Registration::Already(_) => None,
                    })
                }
                Action::AssignStage {
                    name,
                    version,
                    stage,
                } => registry::plan_assign(&registry, name, version, stage).map(Some),
                _ => Ok(None),
            };
            match planned {
                Ok(Some(tag)) => {
                    let key = format!("{index}/{step}/{n}/tag");
                    self.queue_tag(key, Some(index), tag, &mut tags)?;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(workflow = run.workflow, step, %error, "registry action refused");
                }
            }
        }
        Ok(())
    }

    /// `/andon promote MODEL VERSION STAGE`: check the permission and the
    /// checks `.andon/registry.yml` asks for on the version's commit, then
    /// queue the stage tag and answer.
    pub(super) fn promote(
        &mut self,
        line: &CommandLine,
        model: &str,
        version: &str,
        stage: &str,
    ) -> anyhow::Result<()> {
        let loaded = self.workflows()?;
        let repo = loaded.repo.clone();
        let policy = match repo.read_file(&loaded.rev, REGISTRY_CONFIG)? {
            None => Ok(PromotePolicy::default()),
            Some(bytes) => PromotePolicy::parse(&String::from_utf8_lossy(bytes.as_slice())),
        };
        let rule = policy.and_then(|p| p.rule(stage));
        let (permission, checks) = match rule {
            Ok(rule) => rule,
            Err(reason) => return self.refuse_promotion(line, &reason),
        };
        let needed = RepoPermission::parse(&permission).unwrap_or(RepoPermission::Write);
        if !self.allowed(line, needed)? {
            return Ok(());
        }
        let mut tags = self.registry_tags(&repo)?;
        let registry = registry::registry_of(&tags);
        let tag = match registry::plan_assign(&registry, model, version, stage) {
            Ok(tag) => tag,
            Err(error) => return self.refuse_promotion(line, &error.to_string()),
        };
        let mut missing = Vec::new();
        if let Some(github) = self.github() {
            for check in &checks {
                let conclusion = self.handle.block_on(github.check_conclusion(
                    self.incoming.installation,
                    self.repository(),
                    &tag.commit,
                    check,
                ))?;
                if conclusion.as_deref() != Some("success") {
                    missing.push(format!(
                        "`{check}` ({})",
                        conclusion.as_deref().unwrap_or("not run")
                    ));
                }
            }
        }
        if !missing.is_empty() {
            let short = &tag.commit[..7.min(tag.commit.len())];
            return self.refuse_promotion(
                line,
                &format!(
                    "promoting to `{stage}` needs these checks to have passed on {short} ({REGISTRY_CONFIG}): {}",
                    missing.join(", ")
                ),
            );
        }
        self.react(line, "rocket")?;
        let body = format!(
            "Promoted `{model}` {version} to `{stage}`: tag `{}` on {}.",
            tag.name,
            &tag.commit[..12.min(tag.commit.len())]
        );
        self.queue_tag(format!("cmd{}/tag", line.line), None, tag, &mut tags)?;
        self.reply(line, body);
        Ok(())
    }

    fn refuse_promotion(&mut self, line: &CommandLine, reason: &str) -> anyhow::Result<()> {
        self.react(line, "confused")?;
        self.reply(line, format!("Cannot run `{}`: {reason}", line.text.trim()));
        Ok(())
    }
}
