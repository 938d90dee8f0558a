//! Conversions between the generated WIT types and the core domain types.

use andon_core::action::{
    Action, Annotation, AnnotationLevel, Artifact, Bump, CheckRun, Conclusion, KvValue,
    RegisterVersion,
};
use andon_core::change::{ChangedFile, FileStatus};
use andon_core::event::{Event, EventKind, OpenPullRequest};
use andon_core::manifest::{CommandInfo, Manifest, Permission};
use sha2::{Digest, Sha256};

use crate::bindings::wit;

pub fn changed_file(file: &ChangedFile) -> wit::ChangedFile {
    wit::ChangedFile {
        path: file.path.clone(),
        old_path: file.old_path.clone(),
        status: match file.status {
            FileStatus::Added => wit::FileStatus::Added,
            FileStatus::Modified => wit::FileStatus::Modified,
            FileStatus::Deleted => wit::FileStatus::Deleted,
            FileStatus::Renamed => wit::FileStatus::Renamed,
        },
        added: file.added,
        removed: file.removed,
        binary: file.binary,
    }
}

fn event_kind(kind: EventKind) -> wit::EventKind {
    match kind {
        EventKind::PullRequest => wit::EventKind::PullRequest,
        EventKind::Push => wit::EventKind::Push,
        EventKind::Manual => wit::EventKind::Manual,
        EventKind::Comment => wit::EventKind::Comment,
        EventKind::Schedule => wit::EventKind::Schedule,
        EventKind::Review => wit::EventKind::Review,
        EventKind::WorkflowRun => wit::EventKind::WorkflowRun,
    }
}

fn core_event_kind(kind: wit::EventKind) -> EventKind {
    match kind {
        wit::EventKind::PullRequest => EventKind::PullRequest,
        wit::EventKind::Push => EventKind::Push,
        wit::EventKind::Manual => EventKind::Manual,
        wit::EventKind::Comment => EventKind::Comment,
        wit::EventKind::Schedule => EventKind::Schedule,
        wit::EventKind::Review => EventKind::Review,
        wit::EventKind::WorkflowRun => EventKind::WorkflowRun,
    }
}

pub fn event(event: &Event) -> wit::Event {
    wit::Event {
        kind: event_kind(event.kind),
        action: event.action.clone(),
        repository: event.repository.clone(),
        number: event.number,
        author: event.author.clone(),
        author_association: event.author_association.clone(),
        base: event.base.clone(),
        head: event.head.clone(),
        ref_name: event.branch.clone(),
        title: event.title.clone(),
        body: event.body.clone(),
        labels: event.labels.clone(),
        command: event.command.clone(),
        args: event.args.clone(),
        author_permission: event.author_permission.clone(),
        review_state: event.review_state.clone(),
        run: event.run.as_ref().map(|run| wit::RunInfo {
            id: run.id,
            workflow: run.workflow.clone(),
            status: run.status.clone(),
            event: event_kind(run.event),
            branch: run.branch.clone(),
            head: run.head.clone(),
            url: run.url.clone(),
            summary: run.summary.clone(),
        }),
        default_branch: event.default_branch.clone(),
        pull_request_author: event.pull_request_author.clone(),
    }
}

pub fn pull_request(pull: &OpenPullRequest) -> wit::PullRequest {
    wit::PullRequest {
        number: pull.number,
        title: pull.title.clone(),
        author: pull.author.clone(),
        labels: pull.labels.clone(),
        head: pull.head.clone(),
        base_branch: pull.base_branch.clone(),
        draft: pull.draft,
    }
}

pub fn manifest(m: wit::Manifest) -> Manifest {
    Manifest {
        name: m.name,
        version: m.version,
        description: m.description,
        events: m.events.into_iter().map(core_event_kind).collect(),
        commands: m
            .commands
            .into_iter()
            .map(|c| CommandInfo {
                name: c.name,
                usage: c.usage,
                description: c.description,
            })
            .collect(),
        permissions: m
            .permissions
            .into_iter()
            .map(|p| match p {
                wit::Permission::Comment => Permission::Comment,
                wit::Permission::Labels => Permission::Labels,
                wit::Permission::Checks => Permission::Checks,
                wit::Permission::Artifacts => Permission::Artifacts,
                wit::Permission::Kv => Permission::Kv,
                wit::Permission::Registry => Permission::Registry,
            })
            .collect(),
        config_schema: m.config_schema,
    }
}

pub fn action(action: wit::Action) -> Action {
    match action {
        wit::Action::Comment(body) => Action::Comment { body, number: None },
        wit::Action::AddLabel(label) => Action::AddLabel {
            label,
            number: None,
        },
        wit::Action::RemoveLabel(label) => Action::RemoveLabel {
            label,
            number: None,
        },
        wit::Action::CommentOn(c) => Action::Comment {
            body: c.body,
            number: Some(c.number),
        },
        wit::Action::AddLabelTo(l) => Action::AddLabel {
            label: l.label,
            number: Some(l.number),
        },
        wit::Action::RemoveLabelFrom(l) => Action::RemoveLabel {
            label: l.label,
            number: Some(l.number),
        },
        wit::Action::CheckRun(run) => Action::CheckRun(CheckRun {
            name: run.name,
            conclusion: match run.conclusion {
                wit::Conclusion::Success => Conclusion::Success,
                wit::Conclusion::Failure => Conclusion::Failure,
                wit::Conclusion::Neutral => Conclusion::Neutral,
                wit::Conclusion::Skipped => Conclusion::Skipped,
                wit::Conclusion::ActionRequired => Conclusion::ActionRequired,
            },
            title: run.title,
            summary: run.summary,
            text: run.text,
            annotations: run
                .annotations
                .into_iter()
                .map(|a| Annotation {
                    path: a.path,
                    start_line: a.start_line,
                    end_line: a.end_line.max(a.start_line),
                    level: match a.level {
                        wit::AnnotationLevel::Notice => AnnotationLevel::Notice,
                        wit::AnnotationLevel::Warning => AnnotationLevel::Warning,
                        wit::AnnotationLevel::Failure => AnnotationLevel::Failure,
                    },
                    title: a.title,
                    message: a.message,
                })
                .collect(),
        }),
        wit::Action::Artifact(artifact) => Action::Artifact(Artifact {
            sha256: hex::encode(Sha256::digest(&artifact.data)),
            size: artifact.data.len() as u64,
            name: artifact.name,
            media_type: artifact.media_type,
            data: artifact.data,
        }),
        wit::Action::KvSet(entry) => Action::KvSet {
            key: entry.key,
            value: KvValue(entry.value),
        },
        wit::Action::Fail(reason) => Action::Fail { reason },
        wit::Action::RegisterVersion(r) => Action::RegisterVersion(RegisterVersion {
            name: r.name,
            version: r.version,
            bump: match r.bump {
                wit::Bump::Patch => Bump::Patch,
                wit::Bump::Minor => Bump::Minor,
                wit::Bump::Major => Bump::Major,
            },
            path: r.path,
            content_hash: r.content_hash,
            metrics: r.metrics,
        }),
        wit::Action::AssignStage(a) => Action::AssignStage {
            name: a.name,
            version: a.version,
            stage: a.stage,
        },
    }
}
