//! The OpenAPI 3.1 document of the API, generated from the handlers' attributes and the
//! request and response types, served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::handlers;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Altimail Server administration API", description = "Domains, accounts, aliases and distribution lists; IP ranges, ports, settings, the delivery queue and the server's status."),
    paths(
        handlers::log_on, handlers::log_off,
        handlers::list_domains, handlers::create_domain, handlers::get_domain, handlers::update_domain,
        handlers::delete_domain, handlers::list_domain_aliases, handlers::add_domain_alias,
        handlers::remove_domain_alias,
        handlers::list_accounts, handlers::create_account, handlers::get_account, handlers::update_account,
        handlers::delete_account, handlers::get_signature,
        handlers::list_aliases, handlers::create_alias, handlers::get_alias, handlers::update_alias,
        handlers::delete_alias,
        handlers::list_lists, handlers::create_list, handlers::get_list, handlers::update_list, handlers::delete_list,
        handlers::list_members, handlers::add_member, handlers::remove_member,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The `bearer` security scheme the paths name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole document: [`ApiDoc`] with the server administration's endpoints.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::server::ServerDoc::openapi());
    doc
}

pub(super) async fn serve_document() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
