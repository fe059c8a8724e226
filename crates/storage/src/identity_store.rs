//! The Parta ID half of `Store`: accounts, SMS codes and their send counters,
//! phone proofs, learning profiles and their links, messenger sessions, and the
//! domain events those changes emit.

use crate::{Pool, StorageError, Store};
use roster::PersonName;
use roster::ids::PersonId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub phone: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct SendHistoryRow {
    pub last_sent_to_phone: Option<i64>,
    pub sends_to_phone_last_hour: i64,
    pub sends_from_ip_last_hour: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredCodeRow {
    pub id: i64,
    pub salt: String,
    pub hash: String,
    pub expires_at: i64,
    /// Tries counted so far, the one being made included (`try_code`).
    pub tries: i64,
    pub used: bool,
}

/// A messenger session about to start: only the hash of its token is stored.
pub struct NewSession {
    pub token_hash: String,
    pub now: i64,
    pub expires_at: i64,
    /// The browser, so the owner recognises the device in the session list.
    pub user_agent: String,
}

/// A request to link a school account to the learning profile of a proven phone.
pub struct NewLink {
    pub org_id: i64,
    pub person_id: i64,
    /// Hash of the phone proof token: consumed by the link.
    pub proof_hash: String,
    pub target: LinkAs,
}

/// Whose Parta ID the link goes to.
pub enum LinkAs {
    /// A new Parta ID with these names ("about me"); refused when the phone
    /// has one already.
    New(PersonName),
    /// "It's me": the Parta ID the phone has, its name unchanged.
    Existing,
    /// A new Parta ID for a guardian whose phone a child of theirs was
    /// registered on: the child's Parta ID becomes a child profile (with this
    /// consent) and gives the phone up.
    NewFreeingChild(PersonName, crate::NewConsent),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkView {
    pub link_id: i64,
    pub profile_id: i64,
    pub account_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub phone: Option<String>,
    pub linked_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessengerSessionView {
    pub id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
    /// Opened from the school portal ("Перейти в мессенджер"); ends on unlink.
    pub from_school: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessengerLink {
    pub org_id: i64,
    pub org_name: String,
    pub person_id: i64,
    pub linked_at: i64,
}

impl Store {
    pub async fn account_by_phone(&self, phone: &str) -> Result<Option<AccountRow>, StorageError> {
        dispatch!(self.identity::account_by_phone(phone))
    }

    pub async fn account(&self, id: i64) -> Result<AccountRow, StorageError> {
        dispatch!(self.identity::account(id))
    }

    /// What the send limits are decided on; counted from the codes table, so the
    /// limits hold across restarts and nodes.
    pub async fn send_history(&self, phone: &str, ip: &str, now: i64) -> Result<SendHistoryRow, StorageError> {
        dispatch!(self.identity::send_history(phone, ip, now))
    }

    pub async fn record_code(
        &self,
        phone: &str,
        ip: &str,
        salt: &str,
        hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        dispatch!(self.identity::record_code(phone, ip, salt, hash, now, expires_at))
    }

    pub async fn latest_code(&self, phone: &str) -> Result<Option<StoredCodeRow>, StorageError> {
        dispatch!(self.identity::latest_code(phone))
    }

    /// Counts a try of the phone's newest code and returns it; `None` when the
    /// code takes no more tries (used, expired, five tries) or there is none.
    pub async fn try_code(&self, phone: &str, now: i64) -> Result<Option<StoredCodeRow>, StorageError> {
        dispatch!(self.identity::try_code(phone, now))
    }

    /// False when a concurrent request used the code first.
    pub async fn use_code(&self, code: i64) -> Result<bool, StorageError> {
        dispatch!(self.identity::use_code(code))
    }

    pub async fn create_proof(&self, token_hash: &str, phone: &str, expires_at: i64) -> Result<(), StorageError> {
        dispatch!(self.identity::create_proof(token_hash, phone, expires_at))
    }

    /// Links and returns the profile id; emits `ProfileLinked` in the same
    /// transaction. The family rules are checked in it (`SharingRefused`).
    pub async fn link_profile(&self, link: &NewLink, now: i64) -> Result<i64, StorageError> {
        dispatch!(self.identity::link_profile(link, now))
    }

    /// Unlinks, ends the sessions that came from the link, emits `ProfileUnlinked`.
    pub async fn unlink_profile(&self, org: i64, person: i64, now: i64) -> Result<(), StorageError> {
        dispatch!(self.identity::unlink_profile(org, person, now))
    }

    pub async fn link_of(&self, org: i64, person: i64) -> Result<Option<LinkView>, StorageError> {
        dispatch!(self.identity::link_of(org, person))
    }

    pub async fn create_sign_in_token(
        &self,
        token_hash: &str,
        account: i64,
        link: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        dispatch!(self.identity::create_sign_in_token(token_hash, account, link, expires_at))
    }

    /// Exchanges a one-time sign-in token; returns the account signed in.
    pub async fn session_from_sign_in_token(
        &self,
        token_hash: &str,
        session: &NewSession,
    ) -> Result<i64, StorageError> {
        dispatch!(self.identity::session_from_sign_in_token(token_hash, session))
    }

    /// Signs in the account of a proven phone.
    pub async fn session_from_proof(&self, proof_hash: &str, session: &NewSession) -> Result<i64, StorageError> {
        dispatch!(self.identity::session_from_proof(proof_hash, session))
    }

    /// Creates a Parta ID for a proven phone and signs it in.
    pub async fn register_account(
        &self,
        proof_hash: &str,
        about: &PersonName,
        password_hash: Option<&str>,
        session: &NewSession,
    ) -> Result<i64, StorageError> {
        dispatch!(self.identity::register_account(proof_hash, about, password_hash, session))
    }

    /// (session id, account id) of a live messenger session.
    pub async fn messenger_session(&self, session_hash: &str, now: i64) -> Result<Option<(i64, i64)>, StorageError> {
        dispatch!(self.identity::messenger_session(session_hash, now))
    }

    pub async fn messenger_sessions(&self, account: i64, now: i64) -> Result<Vec<MessengerSessionView>, StorageError> {
        dispatch!(self.identity::messenger_sessions(account, now))
    }

    pub async fn revoke_messenger_session(&self, account: i64, session: i64) -> Result<(), StorageError> {
        dispatch!(self.identity::revoke_messenger_session(account, session))
    }

    pub async fn messenger_links(&self, account: i64) -> Result<Vec<MessengerLink>, StorageError> {
        dispatch!(self.identity::messenger_links(account))
    }

    /// The learning profile's (last, first, middle) names, if the account has one.
    pub async fn profile_of(&self, account: i64) -> Result<Option<(String, String, Option<String>)>, StorageError> {
        dispatch!(self.identity::profile_of(account))
    }

    pub async fn set_account_password(&self, account: i64, hash: &str) -> Result<(), StorageError> {
        dispatch!(self.identity::set_account_password(account, hash))
    }

    pub async fn change_account_phone(&self, account: i64, proof_hash: &str, now: i64) -> Result<(), StorageError> {
        dispatch!(self.identity::change_account_phone(account, proof_hash, now))
    }

    pub async fn delete_account(&self, account: i64, now: i64) -> Result<(), StorageError> {
        dispatch!(self.identity::delete_account(account, now))
    }

    /// (last name, first name) of the phone's Parta ID, to name it masked.
    pub async fn name_of_phone(&self, phone: &str) -> Result<Option<(String, String)>, StorageError> {
        dispatch!(self.identity::name_of_phone(phone))
    }

    /// Renames a Parta ID and its learning profile.
    pub async fn rename_account(&self, account: i64, name: &PersonName) -> Result<(), StorageError> {
        dispatch!(self.identity::rename_account(account, name))
    }

    pub async fn account_by_login(&self, login: &str) -> Result<Option<AccountRow>, StorageError> {
        dispatch!(self.identity::account_by_login(login))
    }

    /// A messenger session for an account whose credentials were checked.
    pub async fn start_session(&self, account: i64, session: &NewSession) -> Result<(), StorageError> {
        dispatch!(self.identity::start_session(account, session))
    }

    /// Failed sign-in tries of `key` in `scope` after `since`.
    pub async fn attempts_since(&self, scope: &str, key: &str, since: i64) -> Result<i64, StorageError> {
        dispatch!(self.identity::attempts_since(scope, key, since))
    }

    /// Records one failed try per (scope, key); forgets tries up to `forget_before`.
    pub async fn record_attempts(
        &self,
        keys: &[(&str, &str)],
        now: i64,
        forget_before: i64,
    ) -> Result<(), StorageError> {
        dispatch!(self.identity::record_attempts(keys, now, forget_before))
    }

    pub async fn clear_attempts(&self, scope: &str, key: &str) -> Result<(), StorageError> {
        dispatch!(self.identity::clear_attempts(scope, key))
    }

    /// A portal session for the one school account the proven phone's Parta
    /// ID holds; returns that person.
    pub async fn portal_session_from_proof(
        &self,
        proof_hash: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<PersonId, StorageError> {
        dispatch!(self.identity::portal_session_from_proof(proof_hash, token_hash, now, expires_at))
    }

    /// The Parta ID a school account is linked to, in any organisation.
    pub async fn account_of_person(&self, person: PersonId) -> Result<Option<AccountRow>, StorageError> {
        dispatch!(self.identity::account_of_person(person))
    }

    /// Domain events after `after` (their ids), oldest first, as JSON.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<(i64, String)>, StorageError> {
        dispatch!(self.identity::events_after(after, limit))
    }
}
