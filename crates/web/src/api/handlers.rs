//! The endpoints of `/api/v1`: one small handler per operation, each a call of the service.
//! The `#[utoipa::path]` attributes are the OpenAPI document's source ([`super::ApiDoc`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use altimail_admin::{
    AccountChanges, AccountRemoved, AliasChanges, DomainChanges, DomainRemoved, DomainView, ListChanges, ListSummary,
    ListView, NewAccount, NewAlias, NewDomain, NewList, Signature,
};
use altimail_store::repo::accounts::Account;
use altimail_store::repo::aliases::Alias;
use altimail_store::repo::domain_aliases::DomainAlias;
use altimail_store::repo::domains::Domain;
use altimail_store::repo::lists::List;

use super::{Api, ApiError, Authed, ErrorBody, TOKEN_LIFETIME};

type Answer<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

pub(super) fn routes() -> Router<Api> {
    Router::new()
        .route("/api/v1/openapi.json", get(super::openapi::serve_document))
        .route("/api/v1/auth/token", post(log_on).delete(log_off))
        .route("/api/v1/domains", get(list_domains).post(create_domain))
        .route("/api/v1/domains/{name}", get(get_domain).patch(update_domain).delete(delete_domain))
        .route("/api/v1/domains/{name}/aliases", get(list_domain_aliases).post(add_domain_alias))
        .route("/api/v1/domain-aliases/{alias}", delete(remove_domain_alias))
        .route("/api/v1/accounts", get(list_accounts).post(create_account))
        .route("/api/v1/accounts/{address}", get(get_account).patch(update_account).delete(delete_account))
        .route("/api/v1/accounts/{address}/signature", get(get_signature))
        .route("/api/v1/aliases", get(list_aliases).post(create_alias))
        .route("/api/v1/aliases/{name}", get(get_alias).patch(update_alias).delete(delete_alias))
        .route("/api/v1/lists", get(list_lists).post(create_list))
        .route("/api/v1/lists/{address}", get(get_list).patch(update_list).delete(delete_list))
        .route("/api/v1/lists/{address}/members", get(list_members).post(add_member))
        .route("/api/v1/lists/{address}/members/{member}", delete(remove_member))
}

/// A logon.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Logon {
    /// `Administrator`, or an account's address.
    pub user: String,
    pub password: String,
}

/// A bearer token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Token {
    pub token: String,
    /// Seconds the token stays valid.
    pub expires_in: u64,
    /// Whom the token stands for.
    pub user: String,
}

/// `?domain=`: only the objects of one domain.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DomainFilter {
    pub domain: Option<String>,
}

/// `?force=true`: remove even with content (accounts, messages).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Force {
    #[serde(default)]
    pub force: bool,
}

/// A domain alias to add.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomainAlias {
    pub alias: String,
}

/// A member to add to a list.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub address: String,
}

#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = Logon,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn log_on(
    State(api): State<Api>,
    axum::Extension(peer): axum::Extension<super::Peer>,
    Json(logon): Json<Logon>,
) -> Answer<Token> {
    let from = format!("api {}", peer.0);
    api.refuse_banned(peer.0.ip()).await?;
    let caller = match api.admin.authenticate(&logon.user, &logon.password, &from).await {
        Ok(caller) => caller,
        Err(e @ altimail_admin::AdminError::Unauthenticated(_)) => {
            return Err(api.failed_logon(peer.0.ip(), &logon.user, e).await.into());
        }
        Err(e) => return Err(e.into()),
    };
    let user = caller.name().to_owned();
    let token = api.tokens.issue(caller);
    Ok(Json(Token { token, expires_in: TOKEN_LIFETIME.as_secs(), user }))
}

#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub(super) async fn log_off(State(api): State<Api>, parts: axum::http::request::Parts) -> Result<StatusCode, ApiError> {
    if let Some(token) = super::bearer(&parts) {
        api.tokens.revoke(token);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/domains", tag = "domains", security(("bearer" = [])),
    responses((status = 200, body = Vec<Domain>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_domains(State(api): State<Api>, Authed(me): Authed) -> Answer<Vec<Domain>> {
    Ok(Json(api.admin.list_domains(&me).await?))
}

#[utoipa::path(post, path = "/api/v1/domains", tag = "domains", security(("bearer" = [])), request_body = NewDomain,
    responses((status = 201, body = Domain), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_domain(
    State(api): State<Api>,
    Authed(me): Authed,
    Json(new): Json<NewDomain>,
) -> Created<Domain> {
    Ok((StatusCode::CREATED, Json(api.admin.create_domain(&me, &new).await?)))
}

#[utoipa::path(get, path = "/api/v1/domains/{name}", tag = "domains", security(("bearer" = [])),
    params(("name" = String, Path, description = "The domain's name")),
    responses((status = 200, body = DomainView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_domain(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
) -> Answer<DomainView> {
    Ok(Json(api.admin.get_domain(&me, &name).await?))
}

#[utoipa::path(patch, path = "/api/v1/domains/{name}", tag = "domains", security(("bearer" = [])),
    params(("name" = String, Path, description = "The domain's name")), request_body = DomainChanges,
    responses((status = 200, body = Domain), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_domain(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
    Json(changes): Json<DomainChanges>,
) -> Answer<Domain> {
    Ok(Json(api.admin.update_domain(&me, &name, &changes).await?))
}

#[utoipa::path(delete, path = "/api/v1/domains/{name}", tag = "domains", security(("bearer" = [])),
    params(("name" = String, Path, description = "The domain's name"), Force),
    responses((status = 200, body = DomainRemoved), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn delete_domain(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
    Query(f): Query<Force>,
) -> Answer<DomainRemoved> {
    Ok(Json(api.admin.delete_domain(&me, &name, f.force).await?))
}

#[utoipa::path(get, path = "/api/v1/domains/{name}/aliases", tag = "domains", security(("bearer" = [])),
    params(("name" = String, Path, description = "The domain's name")),
    responses((status = 200, body = Vec<DomainAlias>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn list_domain_aliases(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
) -> Answer<Vec<DomainAlias>> {
    Ok(Json(api.admin.list_domain_aliases(&me, &name).await?))
}

#[utoipa::path(post, path = "/api/v1/domains/{name}/aliases", tag = "domains", security(("bearer" = [])),
    params(("name" = String, Path, description = "The domain's name")), request_body = NewDomainAlias,
    responses((status = 201, body = DomainAlias), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn add_domain_alias(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
    Json(new): Json<NewDomainAlias>,
) -> Created<DomainAlias> {
    Ok((StatusCode::CREATED, Json(api.admin.add_domain_alias(&me, &name, &new.alias).await?)))
}

#[utoipa::path(delete, path = "/api/v1/domain-aliases/{alias}", tag = "domains", security(("bearer" = [])),
    params(("alias" = String, Path, description = "The domain alias")),
    responses((status = 200, body = DomainAlias), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn remove_domain_alias(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(alias): Path<String>,
) -> Answer<DomainAlias> {
    Ok(Json(api.admin.remove_domain_alias(&me, &alias).await?))
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])), params(DomainFilter),
    responses((status = 200, body = Vec<Account>), (status = 403, body = ErrorBody)))]
pub(super) async fn list_accounts(
    State(api): State<Api>,
    Authed(me): Authed,
    Query(f): Query<DomainFilter>,
) -> Answer<Vec<Account>> {
    Ok(Json(api.admin.list_accounts(&me, f.domain.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])), request_body = NewAccount,
    responses((status = 201, body = Account), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_account(
    State(api): State<Api>,
    Authed(me): Authed,
    Json(new): Json<NewAccount>,
) -> Created<Account> {
    Ok((StatusCode::CREATED, Json(api.admin.create_account(&me, &new).await?)))
}

#[utoipa::path(get, path = "/api/v1/accounts/{address}", tag = "accounts", security(("bearer" = [])),
    params(("address" = String, Path, description = "The account's address")),
    responses((status = 200, body = Account), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_account(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
) -> Answer<Account> {
    Ok(Json(api.admin.get_account(&me, &address).await?))
}

#[utoipa::path(patch, path = "/api/v1/accounts/{address}", tag = "accounts", security(("bearer" = [])),
    params(("address" = String, Path, description = "The account's address")), request_body = AccountChanges,
    responses((status = 200, body = Account), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_account(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
    Json(changes): Json<AccountChanges>,
) -> Answer<Account> {
    Ok(Json(api.admin.update_account(&me, &address, &changes).await?))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{address}", tag = "accounts", security(("bearer" = [])),
    params(("address" = String, Path, description = "The account's address"), Force),
    responses((status = 200, body = AccountRemoved), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn delete_account(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
    Query(f): Query<Force>,
) -> Answer<AccountRemoved> {
    Ok(Json(api.admin.delete_account(&me, &address, f.force).await?))
}

#[utoipa::path(get, path = "/api/v1/accounts/{address}/signature", tag = "accounts", security(("bearer" = [])),
    params(("address" = String, Path, description = "The account's address")),
    responses((status = 200, body = Signature), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_signature(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
) -> Answer<Signature> {
    Ok(Json(api.admin.account_signature(&me, &address).await?))
}

#[utoipa::path(get, path = "/api/v1/aliases", tag = "aliases", security(("bearer" = [])), params(DomainFilter),
    responses((status = 200, body = Vec<Alias>), (status = 403, body = ErrorBody)))]
pub(super) async fn list_aliases(
    State(api): State<Api>,
    Authed(me): Authed,
    Query(f): Query<DomainFilter>,
) -> Answer<Vec<Alias>> {
    Ok(Json(api.admin.list_aliases(&me, f.domain.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/aliases", tag = "aliases", security(("bearer" = [])), request_body = NewAlias,
    responses((status = 201, body = Alias), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_alias(
    State(api): State<Api>,
    Authed(me): Authed,
    Json(new): Json<NewAlias>,
) -> Created<Alias> {
    Ok((StatusCode::CREATED, Json(api.admin.create_alias(&me, &new).await?)))
}

#[utoipa::path(get, path = "/api/v1/aliases/{name}", tag = "aliases", security(("bearer" = [])),
    params(("name" = String, Path, description = "The alias address")),
    responses((status = 200, body = Alias), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_alias(State(api): State<Api>, Authed(me): Authed, Path(name): Path<String>) -> Answer<Alias> {
    Ok(Json(api.admin.get_alias(&me, &name).await?))
}

#[utoipa::path(patch, path = "/api/v1/aliases/{name}", tag = "aliases", security(("bearer" = [])),
    params(("name" = String, Path, description = "The alias address")), request_body = AliasChanges,
    responses((status = 200, body = Alias), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_alias(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
    Json(changes): Json<AliasChanges>,
) -> Answer<Alias> {
    Ok(Json(api.admin.update_alias(&me, &name, &changes).await?))
}

#[utoipa::path(delete, path = "/api/v1/aliases/{name}", tag = "aliases", security(("bearer" = [])),
    params(("name" = String, Path, description = "The alias address")),
    responses((status = 200, body = Alias), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_alias(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
) -> Answer<Alias> {
    Ok(Json(api.admin.delete_alias(&me, &name).await?))
}

#[utoipa::path(get, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])), params(DomainFilter),
    responses((status = 200, body = Vec<ListSummary>), (status = 403, body = ErrorBody)))]
pub(super) async fn list_lists(
    State(api): State<Api>,
    Authed(me): Authed,
    Query(f): Query<DomainFilter>,
) -> Answer<Vec<ListSummary>> {
    Ok(Json(api.admin.list_lists(&me, f.domain.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])), request_body = NewList,
    responses((status = 201, body = List), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_list(State(api): State<Api>, Authed(me): Authed, Json(new): Json<NewList>) -> Created<List> {
    Ok((StatusCode::CREATED, Json(api.admin.create_list(&me, &new).await?)))
}

#[utoipa::path(get, path = "/api/v1/lists/{address}", tag = "lists", security(("bearer" = [])),
    params(("address" = String, Path, description = "The list's address")),
    responses((status = 200, body = ListView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_list(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
) -> Answer<ListView> {
    Ok(Json(api.admin.get_list(&me, &address).await?))
}

#[utoipa::path(patch, path = "/api/v1/lists/{address}", tag = "lists", security(("bearer" = [])),
    params(("address" = String, Path, description = "The list's address")), request_body = ListChanges,
    responses((status = 200, body = List), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_list(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
    Json(changes): Json<ListChanges>,
) -> Answer<List> {
    Ok(Json(api.admin.update_list(&me, &address, &changes).await?))
}

#[utoipa::path(delete, path = "/api/v1/lists/{address}", tag = "lists", security(("bearer" = [])),
    params(("address" = String, Path, description = "The list's address")),
    responses((status = 200, body = List), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_list(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
) -> Answer<List> {
    Ok(Json(api.admin.delete_list(&me, &address).await?))
}

#[utoipa::path(get, path = "/api/v1/lists/{address}/members", tag = "lists", security(("bearer" = [])),
    params(("address" = String, Path, description = "The list's address")),
    responses((status = 200, body = Vec<String>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn list_members(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
) -> Answer<Vec<String>> {
    Ok(Json(api.admin.list_members(&me, &address).await?))
}

#[utoipa::path(post, path = "/api/v1/lists/{address}/members", tag = "lists", security(("bearer" = [])),
    params(("address" = String, Path, description = "The list's address")), request_body = NewMember,
    responses((status = 201, body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn add_member(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(address): Path<String>,
    Json(new): Json<NewMember>,
) -> Created<String> {
    Ok((StatusCode::CREATED, Json(api.admin.add_member(&me, &address, &new.address).await?)))
}

#[utoipa::path(delete, path = "/api/v1/lists/{address}/members/{member}", tag = "lists", security(("bearer" = [])),
    params(("address" = String, Path, description = "The list's address"), ("member" = String, Path, description = "The member's address")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn remove_member(
    State(api): State<Api>,
    Authed(me): Authed,
    Path((address, member)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    api.admin.remove_member(&me, &address, &member).await?;
    Ok(StatusCode::NO_CONTENT)
}
