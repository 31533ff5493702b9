//! The bytes of files waiting to be sent, kept in IndexedDB (localStorage
//! holds strings only, and a few megabytes at most) so a message with files
//! chosen offline survives a reload. Keys are the files' keys in the
//! outbox; every call is best effort (a browser without IndexedDB, a full
//! disk: the file then lives in memory only, until the page closes).

use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DB: &str = "jobchat-files";
const STORE: &str = "files";

/// Calls `f` once, with the request's result or `None` if it failed.
fn on_done(req: &IdbRequest, f: impl FnOnce(Option<JsValue>) + 'static) {
    let f = Rc::new(RefCell::new(Some(f)));
    let ok = {
        let f = f.clone();
        let req = req.clone();
        Closure::once_into_js(move || {
            if let Some(f) = f.borrow_mut().take() {
                f(req.result().ok());
            }
        })
    };
    let failed = Closure::once_into_js(move || {
        if let Some(f) = f.borrow_mut().take() {
            f(None);
        }
    });
    req.set_onsuccess(Some(ok.unchecked_ref()));
    req.set_onerror(Some(failed.unchecked_ref()));
}

/// Opens the database (creating its store the first time).
fn open(f: impl FnOnce(Option<IdbDatabase>) + 'static) {
    let Some(req) = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .and_then(|idb| idb.open_with_u32(DB, 1).ok())
    else {
        f(None);
        return;
    };
    let upgrade = {
        let req: IdbOpenDbRequest = req.clone();
        Closure::once_into_js(move || {
            if let Ok(db) = req.result().and_then(|r| r.dyn_into::<IdbDatabase>())
                && !db.object_store_names().contains(STORE)
            {
                let _ = db.create_object_store(STORE);
            }
        })
    };
    req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    on_done(&req, move |r| {
        f(r.and_then(|r| r.dyn_into::<IdbDatabase>().ok()));
    });
}

fn with_store(mode: IdbTransactionMode, f: impl FnOnce(Option<web_sys::IdbObjectStore>) + 'static) {
    open(move |db| {
        let store = db
            .and_then(|db| db.transaction_with_str_and_mode(STORE, mode).ok())
            .and_then(|t| t.object_store(STORE).ok());
        f(store);
    });
}

/// Keeps the files' bytes.
pub fn save(files: Vec<(String, Blob)>) {
    with_store(IdbTransactionMode::Readwrite, move |store| {
        let Some(store) = store else { return };
        for (key, blob) in files {
            let _ = store.put_with_key(&blob, &JsValue::from_str(&key));
        }
    });
}

/// The bytes kept under `key`, if any.
pub fn load(key: String, f: impl FnOnce(Option<Blob>) + 'static) {
    with_store(IdbTransactionMode::Readonly, move |store| {
        match store.and_then(|s| s.get(&JsValue::from_str(&key)).ok()) {
            Some(req) => on_done(&req, move |r| f(r.and_then(|v| v.dyn_into::<Blob>().ok()))),
            None => f(None),
        }
    });
}

pub fn delete(keys: Vec<String>) {
    with_store(IdbTransactionMode::Readwrite, move |store| {
        let Some(store) = store else { return };
        for key in keys {
            let _ = store.delete(&JsValue::from_str(&key));
        }
    });
}

/// Forgets every kept file (logout).
pub fn clear() {
    with_store(IdbTransactionMode::Readwrite, |store| {
        if let Some(store) = store {
            let _ = store.clear();
        }
    });
}
