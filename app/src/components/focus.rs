//! Keyboard focus for windows and dialogs: where it was before one opened
//! (to go back there when it closes), moving it in, and keeping it inside a
//! dialog while Tab and Shift+Tab cycle. Browser only; on the server every
//! call does nothing.

/// The element that had focus (a button that opened a window).
#[derive(Clone)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct Focused(#[cfg(feature = "hydrate")] web_sys::HtmlElement);

#[cfg(feature = "hydrate")]
mod dom {
    use wasm_bindgen::JsCast;
    use web_sys::{Document, Element, HtmlElement};

    pub fn document() -> Option<Document> {
        web_sys::window().and_then(|w| w.document())
    }

    pub fn find(selector: &str) -> Option<HtmlElement> {
        document()?
            .query_selector(selector)
            .ok()
            .flatten()?
            .dyn_into::<HtmlElement>()
            .ok()
    }

    /// What Tab stops at inside `root`, in document order (buttons, fields
    /// and links: what the app's dialogs hold).
    pub fn tab_stops(root: &Element) -> Vec<HtmlElement> {
        let all = root.get_elements_by_tag_name("*");
        (0..all.length())
            .filter_map(|i| all.item(i))
            .filter_map(|e| e.dyn_into::<HtmlElement>().ok())
            .filter(|e| {
                matches!(
                    e.tag_name().as_str(),
                    "BUTTON" | "INPUT" | "TEXTAREA" | "SELECT" | "A"
                ) && !e.has_attribute("disabled")
                    && e.tab_index() >= 0
                    && e.offset_parent().is_some()
            })
            .collect()
    }
}

/// The focused element, unless nothing is (the page itself has focus, as
/// after a load): a window restored at load must not take the focus.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn current() -> Option<Focused> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let doc = dom::document()?;
        let active = doc.active_element()?;
        if doc.body().is_some_and(|b| *b == active) {
            return None;
        }
        active.dyn_into::<web_sys::HtmlElement>().ok().map(Focused)
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

impl Focused {
    /// Focuses it again; `false` when it is no longer on the page.
    pub fn restore(&self) -> bool {
        #[cfg(feature = "hydrate")]
        {
            if self.0.is_connected() {
                let _ = self.0.focus();
                return true;
            }
        }
        false
    }
}

/// Focuses the first element matching `selector`; `false` when none does.
pub fn focus(selector: &str) -> bool {
    #[cfg(feature = "hydrate")]
    if let Some(el) = dom::find(selector) {
        let _ = el.focus();
        return true;
    }
    let _ = selector;
    false
}

/// Clicks the first element matching `selector` (a button that opens a
/// form); `false` when none does.
pub fn press(selector: &str) -> bool {
    #[cfg(feature = "hydrate")]
    if let Some(el) = dom::find(selector) {
        el.click();
        return true;
    }
    let _ = selector;
    false
}

/// Focuses the first tab stop inside the element matching `selector`.
pub fn focus_first_in(selector: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(first) =
        dom::find(selector).and_then(|root| dom::tab_stops(&root).into_iter().next())
    {
        let _ = first.focus();
    }
    let _ = selector;
}

/// Keeps Tab and Shift+Tab inside the element matching `selector` (a
/// dialog): from its last stop Tab goes to its first, and back.
pub fn trap_tab(selector: &str, ev: &leptos::ev::KeyboardEvent) {
    if ev.key() != "Tab" {
        return;
    }
    #[cfg(feature = "hydrate")]
    {
        let Some(root) = dom::find(selector) else {
            return;
        };
        let stops = dom::tab_stops(&root);
        let (Some(first), Some(last)) = (stops.first(), stops.last()) else {
            ev.prevent_default();
            return;
        };
        let active = dom::document().and_then(|d| d.active_element());
        let at = |e: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| *a == **e);
        let inside = active.as_ref().is_some_and(|a| root.contains(Some(&**a)));
        if ev.shift_key() && (at(first) || !inside) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && (at(last) || !inside) {
            ev.prevent_default();
            let _ = first.focus();
        }
    }
    let _ = selector;
}

/// A form's keydown handler: Escape closes the form (`close`) and goes no
/// further, so the chat window or page around it stays open.
pub fn escape_closes(
    close: impl Fn() + Copy + 'static,
) -> impl Fn(leptos::ev::KeyboardEvent) + Copy + 'static {
    move |ev| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            close();
        }
    }
}
