//! Limits on guessing, counted in the database (`auth_attempts`) so they hold
//! across restarts and nodes and follow the server's clock: wrong passwords per
//! login and per network address (`identity::limits` decides), look-ups of
//! phone numbers per address, and wrong child sign-in codes per address.

use crate::AppState;
use crate::error::{self as e, ApiResult};
use identity::limits::{self, Failures};
use std::net::IpAddr;

/// Tries are forgotten after the longest window any limit looks at.
const FORGET_AFTER_SECS: i64 = 3600;

/// Phone look-ups (`POST /api/identity/phone`) per address and minute: a
/// person types a number a few times; a scan of numbers is stopped.
const LOOKUPS_PER_MINUTE: i64 = 20;
/// Wrong child codes per address in ten minutes: with eight characters from
/// 31, a guess is hopeless long before this.
const CHILD_CODE_FAILURES: i64 = 10;
const CHILD_CODE_WINDOW_SECS: i64 = 10 * 60;

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The wrong-password guard of one sign-in: a login of one kind (`portal`,
/// `phone`, `child`) tried from one address.
pub(crate) struct PasswordGuard<'a> {
    state: &'a AppState,
    login: String,
    login_from_address: String,
    address: String,
}

impl<'a> PasswordGuard<'a> {
    pub(crate) fn new(state: &'a AppState, kind: &str, login: &str, address: IpAddr) -> Self {
        let login = format!("{kind}:{login}");
        let address = address.to_string();
        PasswordGuard { state, login_from_address: format!("{login}|{address}"), login, address }
    }

    async fn failures(&self) -> ApiResult<Failures> {
        let store = &self.state.store;
        let since = self.state.now() - limits::FAILURE_WINDOW_SECS;
        Ok(Failures {
            login_from_address: count(store.attempts_since("login_address", &self.login_from_address, since).await?),
            from_address: count(store.attempts_since("address", &self.address, since).await?),
            login_anywhere: count(store.attempts_since("login", &self.login, since).await?),
        })
    }

    /// Refuses the try when a limit is reached.
    pub(crate) async fn check(&self) -> ApiResult<()> {
        limits::may_try_password(&self.failures().await?).map_err(|lockout| {
            tracing::warn!(login = %self.login, address = %self.address, %lockout, "password tries locked");
            e::TOO_MANY_ATTEMPTS
        })
    }

    /// Counts a wrong password. True when this one closed the password for
    /// everyone: the owner should be told somebody is guessing.
    pub(crate) async fn failed(&self) -> ApiResult<bool> {
        let before = self.failures().await?;
        let now = self.state.now();
        let keys = [
            ("login_address", self.login_from_address.as_str()),
            ("address", self.address.as_str()),
            ("login", self.login.as_str()),
        ];
        self.state.store.record_attempts(&keys, now, now - FORGET_AFTER_SECS).await?;
        Ok(limits::closes_login(&before))
    }

    /// The owner got in: their own earlier typos from here stop counting.
    pub(crate) async fn succeeded(&self) -> ApiResult<()> {
        Ok(self.state.store.clear_attempts("login_address", &self.login_from_address).await?)
    }
}

/// Tells the owner of a phone that somebody is guessing their password. A
/// failure to send is logged: the lock holds either way.
pub(crate) async fn warn_owner(state: &AppState, phone: &str) {
    let text = "Parta: кто-то много раз ввёл неверный пароль от вашего профиля. Вход по паролю закрыт на 15 минут; \
                по коду из SMS вы входите как обычно.";
    if let Err(err) = state.sms.send(phone, text).await {
        tracing::warn!(error = %err, "cannot tell the owner about password guessing");
    }
}

/// Counts one look-up of a phone number from `address`; refuses past the limit.
pub(crate) async fn phone_lookup(state: &AppState, address: IpAddr) -> ApiResult<()> {
    let now = state.now();
    let key = address.to_string();
    if state.store.attempts_since("lookup", &key, now - 60).await? >= LOOKUPS_PER_MINUTE {
        return Err(e::LOOKUPS_LIMITED.retry_after(60));
    }
    state.store.record_attempts(&[("lookup", &key)], now, now - FORGET_AFTER_SECS).await?;
    Ok(())
}

/// Refuses child-code tries from an address that has had too many wrong ones.
pub(crate) async fn child_code_allowed(state: &AppState, address: IpAddr) -> ApiResult<()> {
    let since = state.now() - CHILD_CODE_WINDOW_SECS;
    if state.store.attempts_since("child_code", &address.to_string(), since).await? >= CHILD_CODE_FAILURES {
        return Err(e::TOO_MANY_ATTEMPTS);
    }
    Ok(())
}

pub(crate) async fn child_code_failed(state: &AppState, address: IpAddr) -> ApiResult<()> {
    let now = state.now();
    state.store.record_attempts(&[("child_code", &address.to_string())], now, now - FORGET_AFTER_SECS).await?;
    Ok(())
}
