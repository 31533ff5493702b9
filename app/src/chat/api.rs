//! REST calls from the browser. The HttpOnly session cookie authenticates
//! them; JavaScript never sees the token.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A failed call, with the server's message when it sent one.
#[derive(Clone, Debug)]
pub struct ApiFailure {
    pub status: u16,
    pub message: String,
}

async fn finish<T: DeserializeOwned>(
    res: Result<Response, gloo_net::Error>,
) -> Result<T, ApiFailure> {
    let res = res.map_err(|e| ApiFailure {
        status: 0,
        message: format!("network error: {e}"),
    })?;
    let status = res.status();
    if (200..300).contains(&status) {
        if status == 204 {
            return serde_json::from_str("null").map_err(|e| ApiFailure {
                status,
                message: e.to_string(),
            });
        }
        return res.json::<T>().await.map_err(|e| ApiFailure {
            status,
            message: e.to_string(),
        });
    }
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    Err(ApiFailure {
        status,
        message: body["error"]["message"]
            .as_str()
            .unwrap_or("request failed")
            .to_owned(),
    })
}

fn with_credentials(b: RequestBuilder) -> RequestBuilder {
    b.credentials(web_sys::RequestCredentials::SameOrigin)
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    finish(with_credentials(Request::get(path)).send().await).await
}

pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiFailure> {
    let req = with_credentials(Request::post(path)).json(body);
    match req {
        Ok(r) => finish(r.send().await).await,
        Err(e) => Err(ApiFailure {
            status: 0,
            message: e.to_string(),
        }),
    }
}
