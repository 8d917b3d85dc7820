//! The endpoints of the server's administration under `/api/v1`: IP ranges, ports, settings
//! by area, server messages, the delivery queue and the status. Server administrators only
//! (the service refuses the others); each handler is one call of the service.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use altimail_admin::{
    Flushed, LogQuery, LogSearch, NewPort, NewRange, Port, PortChanges, QueueEntry, RangeChanges, RangeOption,
    RangeView, ServerMessage, ServerMessageText, ServerSettings, ServerStatus, SettingsChanges,
};

use super::{Api, ApiError, Authed, ErrorBody};

type Answer<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

pub(super) fn routes() -> Router<Api> {
    Router::new()
        .route("/api/v1/ip-ranges", get(list_ranges).post(create_range))
        .route("/api/v1/ip-ranges/options", get(range_options))
        .route("/api/v1/ip-ranges/{name}", get(get_range).patch(update_range).delete(delete_range))
        .route("/api/v1/ports", get(list_ports).post(create_port))
        .route("/api/v1/ports/{id}", get(get_port).patch(update_port).delete(delete_port))
        .route("/api/v1/settings", get(get_settings).patch(update_settings))
        .route("/api/v1/server-messages", get(list_server_messages))
        .route("/api/v1/server-messages/{name}", put(set_server_message))
        .route("/api/v1/queue", get(list_queue))
        .route("/api/v1/queue/flush", post(flush_queue))
        .route("/api/v1/queue/{id}", get(get_queued).delete(remove_queued))
        .route("/api/v1/queue/{id}/retry", post(retry_queued))
        .route("/api/v1/status", get(status))
        .route("/api/v1/logs", get(search_logs))
}

/// The part of the OpenAPI document these endpoints make.
#[derive(OpenApi)]
#[openapi(paths(
    list_ranges,
    create_range,
    range_options,
    get_range,
    update_range,
    delete_range,
    list_ports,
    create_port,
    get_port,
    update_port,
    delete_port,
    search_logs,
    get_settings,
    update_settings,
    list_server_messages,
    set_server_message,
    list_queue,
    flush_queue,
    get_queued,
    remove_queued,
    retry_queued,
    status,
))]
pub(super) struct ServerDoc;

/// `?auto_ban=true|false`: only the ranges auto-ban made, or only the others.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct RangeFilter {
    pub auto_ban: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/ip-ranges", tag = "ip-ranges", security(("bearer" = [])), params(RangeFilter),
    responses((status = 200, body = Vec<RangeView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_ranges(
    State(api): State<Api>,
    Authed(me): Authed,
    Query(f): Query<RangeFilter>,
) -> Answer<Vec<RangeView>> {
    let all = api.admin.list_ranges(&me).await?;
    Ok(Json(all.into_iter().filter(|r| f.auto_ban.is_none_or(|a| a == r.auto_ban)).collect()))
}

#[utoipa::path(post, path = "/api/v1/ip-ranges", tag = "ip-ranges", security(("bearer" = [])), request_body = NewRange,
    responses((status = 201, body = RangeView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_range(
    State(api): State<Api>,
    Authed(me): Authed,
    Json(new): Json<NewRange>,
) -> Created<RangeView> {
    Ok((StatusCode::CREATED, Json(api.admin.create_range(&me, &new).await?)))
}

#[utoipa::path(get, path = "/api/v1/ip-ranges/options", tag = "ip-ranges",
    responses((status = 200, body = Vec<RangeOption>)))]
pub(super) async fn range_options() -> Json<Vec<RangeOption>> {
    Json(altimail_admin::range_options())
}

#[utoipa::path(get, path = "/api/v1/ip-ranges/{name}", tag = "ip-ranges", security(("bearer" = [])),
    params(("name" = String, Path, description = "The range's name")),
    responses((status = 200, body = RangeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_range(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
) -> Answer<RangeView> {
    Ok(Json(api.admin.get_range(&me, &name).await?))
}

#[utoipa::path(patch, path = "/api/v1/ip-ranges/{name}", tag = "ip-ranges", security(("bearer" = [])),
    params(("name" = String, Path, description = "The range's name")), request_body = RangeChanges,
    responses((status = 200, body = RangeView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn update_range(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
    Json(changes): Json<RangeChanges>,
) -> Answer<RangeView> {
    Ok(Json(api.admin.update_range(&me, &name, &changes).await?))
}

#[utoipa::path(delete, path = "/api/v1/ip-ranges/{name}", tag = "ip-ranges", security(("bearer" = [])),
    params(("name" = String, Path, description = "The range's name (removing an auto-ban range lifts the ban)")),
    responses((status = 200, body = RangeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_range(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
) -> Answer<RangeView> {
    Ok(Json(api.admin.delete_range(&me, &name).await?))
}

#[utoipa::path(get, path = "/api/v1/ports", tag = "ports", security(("bearer" = [])),
    responses((status = 200, body = Vec<Port>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_ports(State(api): State<Api>, Authed(me): Authed) -> Answer<Vec<Port>> {
    Ok(Json(api.admin.list_ports(&me).await?))
}

#[utoipa::path(post, path = "/api/v1/ports", tag = "ports", security(("bearer" = [])), request_body = NewPort,
    responses((status = 201, body = Port), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_port(State(api): State<Api>, Authed(me): Authed, Json(new): Json<NewPort>) -> Created<Port> {
    Ok((StatusCode::CREATED, Json(api.admin.create_port(&me, &new).await?)))
}

#[utoipa::path(get, path = "/api/v1/ports/{id}", tag = "ports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The port's id")),
    responses((status = 200, body = Port), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_port(State(api): State<Api>, Authed(me): Authed, Path(id): Path<i64>) -> Answer<Port> {
    Ok(Json(api.admin.get_port(&me, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/ports/{id}", tag = "ports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The port's id")), request_body = PortChanges,
    responses((status = 200, body = Port), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn update_port(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(id): Path<i64>,
    Json(changes): Json<PortChanges>,
) -> Answer<Port> {
    Ok(Json(api.admin.update_port(&me, id, &changes).await?))
}

#[utoipa::path(delete, path = "/api/v1/ports/{id}", tag = "ports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The port's id")),
    responses((status = 200, body = Port), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_port(State(api): State<Api>, Authed(me): Authed, Path(id): Path<i64>) -> Answer<Port> {
    Ok(Json(api.admin.delete_port(&me, id).await?))
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = ServerSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn get_settings(State(api): State<Api>, Authed(me): Authed) -> Answer<ServerSettings> {
    Ok(Json(api.admin.get_settings(&me).await?))
}

#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])), request_body = SettingsChanges,
    responses((status = 200, body = ServerSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn update_settings(
    State(api): State<Api>,
    Authed(me): Authed,
    Json(changes): Json<SettingsChanges>,
) -> Answer<ServerSettings> {
    Ok(Json(api.admin.update_settings(&me, &changes).await?))
}

#[utoipa::path(get, path = "/api/v1/server-messages", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Vec<ServerMessage>), (status = 403, body = ErrorBody)))]
pub(super) async fn list_server_messages(State(api): State<Api>, Authed(me): Authed) -> Answer<Vec<ServerMessage>> {
    Ok(Json(api.admin.list_server_messages(&me).await?))
}

#[utoipa::path(put, path = "/api/v1/server-messages/{name}", tag = "settings", security(("bearer" = [])),
    params(("name" = String, Path, description = "The message's name, e.g. SEND_FAILED_NOTIFICATION")),
    request_body = ServerMessageText,
    responses((status = 200, body = ServerMessage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn set_server_message(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(name): Path<String>,
    Json(body): Json<ServerMessageText>,
) -> Answer<ServerMessage> {
    Ok(Json(api.admin.set_server_message(&me, &name, &body.text).await?))
}

#[utoipa::path(get, path = "/api/v1/queue", tag = "queue", security(("bearer" = [])),
    responses((status = 200, body = Vec<QueueEntry>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_queue(State(api): State<Api>, Authed(me): Authed) -> Answer<Vec<QueueEntry>> {
    Ok(Json(api.admin.list_queue(&me).await?))
}

#[utoipa::path(post, path = "/api/v1/queue/flush", tag = "queue", security(("bearer" = [])),
    responses((status = 200, body = Flushed), (status = 403, body = ErrorBody)))]
pub(super) async fn flush_queue(State(api): State<Api>, Authed(me): Authed) -> Answer<Flushed> {
    Ok(Json(api.admin.flush_queue(&me).await?))
}

#[utoipa::path(get, path = "/api/v1/queue/{id}", tag = "queue", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 200, body = QueueEntry), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_queued(State(api): State<Api>, Authed(me): Authed, Path(id): Path<i64>) -> Answer<QueueEntry> {
    Ok(Json(api.admin.get_queued(&me, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/queue/{id}", tag = "queue", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 200, body = QueueEntry), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn remove_queued(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(id): Path<i64>,
) -> Answer<QueueEntry> {
    Ok(Json(api.admin.remove_queued(&me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/queue/{id}/retry", tag = "queue", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 200, body = QueueEntry), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn retry_queued(
    State(api): State<Api>,
    Authed(me): Authed,
    Path(id): Path<i64>,
) -> Answer<QueueEntry> {
    Ok(Json(api.admin.retry_queued(&me, id).await?))
}

#[utoipa::path(get, path = "/api/v1/status", tag = "status", security(("bearer" = [])),
    responses((status = 200, body = ServerStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn status(State(api): State<Api>, Authed(me): Authed) -> Answer<ServerStatus> {
    Ok(Json(api.admin.status(&me).await?))
}

#[utoipa::path(get, path = "/api/v1/logs", tag = "status", security(("bearer" = [])), params(LogQuery),
    responses((status = 200, body = LogSearch), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn search_logs(
    State(api): State<Api>,
    Authed(me): Authed,
    Query(q): Query<LogQuery>,
) -> Answer<LogSearch> {
    Ok(Json(api.admin.search_logs(&me, &q).await?))
}
