//! Message text as text: never parsed as HTML. Only http(s) URLs become
//! links, opened without access to this page.

use leptos::prelude::*;

enum Piece {
    Text(String),
    Link(String),
}

fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut plain = String::new();
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        let is_link = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
            && trimmed.len() > 8;
        if is_link {
            // Trailing punctuation belongs to the sentence, not the URL.
            let url = trimmed.trim_end_matches(['.', ',', ')', '!', '?', ';', ':']);
            if !plain.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut plain)));
            }
            out.push(Piece::Link(url.to_owned()));
            plain.push_str(&word[url.len()..]);
        } else {
            plain.push_str(word);
        }
    }
    if !plain.is_empty() {
        out.push(Piece::Text(plain));
    }
    out
}

#[component]
pub fn MessageText(text: String) -> impl IntoView {
    pieces(&text)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t.into_any(),
            Piece::Link(url) => {
                let label = url.clone();
                view! { <a href=url target="_blank" rel="noopener noreferrer nofollow">{label}</a> }
                    .into_any()
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> Vec<String> {
        pieces(text)
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => format!("T:{t}"),
                Piece::Link(u) => format!("L:{u}"),
            })
            .collect()
    }

    #[test]
    fn links_only_http() {
        assert_eq!(
            render("see https://example.com/x. ok"),
            vec!["T:see ", "L:https://example.com/x", "T:. ok"]
        );
        assert_eq!(render("javascript:alert(1)"), vec!["T:javascript:alert(1)"]);
        assert_eq!(
            render("<img src=x onerror=alert(1)>"),
            vec!["T:<img src=x onerror=alert(1)>"]
        );
    }
}
