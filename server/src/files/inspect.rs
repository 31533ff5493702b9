//! What an uploaded file really is, decided from its bytes: its type is
//! sniffed (the `infer` crate) against an allow-list, never taken from its
//! name or the browser; an image is decoded within bounded dimensions and
//! memory and given a thumbnail; its metadata goes (a phone photo's EXIF
//! holds where it was taken): an upright JPEG loses its metadata segments
//! and keeps its pixels as they were, anything else is turned upright and
//! re-encoded. CPU-heavy: run it
//! off the async threads (`Files::check`).

use super::Refused;
use crate::config::FileLimits;
use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;

/// Either side of an image beyond this is refused whatever its pixel count
/// (a 1 × 40,000,000 strip is no photo).
const MAX_SIDE: u32 = 20_000;

/// A file that passed, ready to store.
#[derive(Debug)]
pub struct Checked {
    pub mime: &'static str,
    /// The extension its name must end with.
    pub extension: &'static str,
    /// The bytes to store: an image re-encoded, anything else as uploaded.
    pub bytes: Bytes,
    pub dimensions: Option<(u32, u32)>,
    pub thumbnail: Option<Thumbnail>,
}

#[derive(Debug)]
pub struct Thumbnail {
    pub mime: &'static str,
    pub bytes: Bytes,
}

/// The types a chat takes: sniffed type → (type served, extension).
const ALLOWED: &[(&str, &str)] = &[
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("application/pdf", "pdf"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
    ("application/vnd.oasis.opendocument.text", "odt"),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("application/vnd.oasis.opendocument.presentation", "odp"),
    ("application/msword", "doc"),
    ("application/vnd.ms-excel", "xls"),
    ("application/vnd.ms-powerpoint", "ppt"),
];

/// Checks `raw` (already within the size limit) and prepares what to store.
pub fn inspect(raw: Bytes, limits: &FileLimits) -> Result<Checked, Refused> {
    if raw.is_empty() {
        return Err(Refused::Empty);
    }
    let Some(kind) = infer::get(&raw) else {
        // No magic number: plain text is the one type left that may pass.
        if is_plain_text(&raw) {
            return Ok(Checked {
                mime: "text/plain",
                extension: "txt",
                bytes: raw,
                dimensions: None,
                thumbnail: None,
            });
        }
        return Err(Refused::Unsupported("an unknown type".into()));
    };
    let Some(&(mime, extension)) = ALLOWED.iter().find(|(m, _)| *m == kind.mime_type()) else {
        return Err(Refused::Unsupported(kind.mime_type().to_owned()));
    };
    let format = match mime {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/webp" => ImageFormat::WebP,
        _ => {
            return Ok(Checked {
                mime,
                extension,
                bytes: raw,
                dimensions: None,
                thumbnail: None,
            });
        }
    };
    image(raw, format, limits)
}

/// UTF-8 with no control characters but tabs and line breaks (a binary
/// file without a known signature fails here).
fn is_plain_text(raw: &[u8]) -> bool {
    std::str::from_utf8(raw).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
}

fn image(raw: Bytes, format: ImageFormat, limits: &FileLimits) -> Result<Checked, Refused> {
    let corrupt = |e: image::ImageError| Refused::Corrupt(e.to_string());
    // The header first: a decompression bomb is refused before a pixel
    // of it is decoded.
    let (width, height) = ImageReader::with_format(Cursor::new(&raw[..]), format)
        .into_dimensions()
        .map_err(corrupt)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Refused::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(&raw[..]), format);
    let mut bounds = image::Limits::default();
    bounds.max_image_width = Some(width);
    bounds.max_image_height = Some(height);
    // Room for the decoded image (up to 16 bytes a pixel) and a decoder's
    // buffers; nothing an upload does can ask for more.
    bounds.max_alloc = Some(pixels * 16 + 64 * 1024 * 1024);
    reader.limits(bounds);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let upright = orientation == image::metadata::Orientation::NoTransforms;
    img.apply_orientation(orientation);
    // A JPEG that needs no turning keeps its pixels as they are: only its
    // metadata segments go (no second lossy pass, and no encoder's time).
    let stripped = (format == ImageFormat::Jpeg && upright)
        .then(|| strip_jpeg_metadata(&raw))
        .flatten();
    let (mime, extension, bytes) = match stripped {
        Some(bytes) => ("image/jpeg", "jpg", Bytes::from(bytes)),
        None => encode(&img, format)?,
    };
    let small = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let (thumb_mime, _, thumb) = encode(&small, format)?;
    Ok(Checked {
        mime,
        extension,
        bytes,
        dimensions: Some((img.width(), img.height())),
        thumbnail: Some(Thumbnail {
            mime: thumb_mime,
            bytes: thumb,
        }),
    })
}

/// The JPEG without its metadata: every APPn segment but JFIF (APP0), the
/// colour profile (APP2) and Adobe's colour transform (APP14), and every
/// comment, go; EXIF and XMP (APP1), where a camera writes the place a photo
/// was taken, among them. `None` when the stream is not laid out as
/// expected (then the image is re-encoded instead).
fn strip_jpeg_metadata(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..2]);
    let mut at = 2;
    loop {
        if *raw.get(at)? != 0xFF {
            return None;
        }
        let marker = *raw.get(at + 1)?;
        if marker == 0xFF {
            // Fill byte before a marker.
            at += 1;
            continue;
        }
        if marker == 0xDA {
            // Start of scan: the entropy-coded data (and any further scans)
            // stay as they are, up to the end-of-image marker, which no
            // coded byte can imitate (a 0xFF in it is followed by 0x00).
            // Whatever follows it (a ZIP appended to make a polyglot) goes.
            let eoi = raw[at..].windows(2).position(|w| w == [0xFF, 0xD9])?;
            out.extend_from_slice(&raw[at..at + eoi + 2]);
            return Some(out);
        }
        let len = usize::from(u16::from_be_bytes([*raw.get(at + 2)?, *raw.get(at + 3)?]));
        let end = at.checked_add(2 + len)?;
        if len < 2 || end > raw.len() {
            return None;
        }
        let dropped = matches!(marker, 0xE1 | 0xE3..=0xED | 0xEF | 0xFE);
        if !dropped {
            out.extend_from_slice(&raw[at..end]);
        }
        at = end;
    }
}

/// Re-encodes without any metadata: a photo as JPEG (quality 85), anything
/// with transparency as PNG; a WebP becomes one of the two.
fn encode(
    img: &DynamicImage,
    from: ImageFormat,
) -> Result<(&'static str, &'static str, Bytes), Refused> {
    let mut out = Cursor::new(Vec::new());
    let failed = |e: image::ImageError| Refused::Corrupt(format!("cannot re-encode: {e}"));
    let png = from == ImageFormat::Png || img.color().has_alpha();
    if png {
        img.write_to(&mut out, ImageFormat::Png).map_err(failed)?;
        return Ok(("image/png", "png", Bytes::from(out.into_inner())));
    }
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    rgb.write_with_encoder(encoder).map_err(failed)?;
    Ok(("image/jpeg", "jpg", Bytes::from(out.into_inner())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, RgbImage};

    /// A black greyscale PNG: a few kilobytes however many pixels.
    fn png(width: u32, height: u32) -> Bytes {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        let mut out = Vec::new();
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::NoFilter)
            .write_image(
                &vec![0u8; (width * height) as usize],
                width,
                height,
                image::ExtendedColorType::L8,
            )
            .expect("encodes");
        Bytes::from(out)
    }

    fn jpeg(width: u32, height: u32) -> Bytes {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(RgbImage::new(width, height))
            .write_to(&mut out, ImageFormat::Jpeg)
            .expect("encodes");
        Bytes::from(out.into_inner())
    }

    #[test]
    fn a_photo_keeps_its_size_and_gets_a_thumbnail() {
        let checked = inspect(jpeg(1200, 800), &FileLimits::default()).expect("passes");
        assert_eq!((checked.mime, checked.extension), ("image/jpeg", "jpg"));
        assert_eq!(checked.dimensions, Some((1200, 800)));
        let thumb = checked.thumbnail.expect("a thumbnail");
        let (w, h) = ImageReader::new(Cursor::new(&thumb.bytes[..]))
            .with_guessed_format()
            .expect("readable")
            .into_dimensions()
            .expect("dimensions");
        assert_eq!((w, h), (320, 213));
    }

    #[test]
    fn a_jpegs_metadata_goes_and_its_pixels_stay() {
        let plain = jpeg(64, 48);
        // EXIF (APP1) and a comment, after SOI.
        let mut tagged = plain[..2].to_vec();
        let exif = b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0GPS 52.52 N";
        tagged.extend_from_slice(&[0xFF, 0xE1]);
        tagged.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        tagged.extend_from_slice(exif);
        tagged.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x07, b'h', b'o', b'm', b'e', b'!']);
        tagged.extend_from_slice(&plain[2..]);
        let checked = inspect(Bytes::from(tagged), &FileLimits::default()).expect("passes");
        assert_eq!(
            &checked.bytes[..],
            &plain[..],
            "exactly the JPEG without them"
        );
        assert_eq!(checked.dimensions, Some((64, 48)));
        // Not a JPEG laid out as expected: no stripping.
        assert_eq!(strip_jpeg_metadata(b"\xFF\xD8\x00"), None);
        assert_eq!(strip_jpeg_metadata(b"\xFF\xD8\xFF\xE1\x00\x40"), None);
        // Anything after the end of the image goes too.
        let mut polyglot = plain.to_vec();
        polyglot.extend_from_slice(b"PK\x03\x04 a zip");
        assert_eq!(strip_jpeg_metadata(&polyglot).as_deref(), Some(&plain[..]));
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        // 10,000 × 5,000 pixels of nothing: small compressed.
        let bomb = png(10_000, 5_000);
        assert!(bomb.len() < 1_000_000, "{}", bomb.len());
        let refused = inspect(bomb, &FileLimits::default()).expect_err("refused");
        assert!(
            matches!(refused, Refused::TooManyPixels { .. }),
            "{refused:?}"
        );
    }

    #[test]
    fn a_truncated_image_is_corrupt() {
        let whole = png(300, 300);
        let cut = whole.slice(..whole.len() / 2);
        let refused = inspect(cut, &FileLimits::default()).expect_err("refused");
        assert!(matches!(refused, Refused::Corrupt(_)), "{refused:?}");
    }

    #[test]
    fn types_come_from_the_bytes() {
        let limits = FileLimits::default();
        let pdf = Bytes::from_static(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n");
        assert_eq!(
            inspect(pdf, &limits).expect("a PDF").mime,
            "application/pdf"
        );
        let text = Bytes::from_static("Invoice 42\n\tTotal: 80 €\n".as_bytes());
        assert_eq!(inspect(text, &limits).expect("text").mime, "text/plain");
        // An ELF executable, a ZIP and binary junk are refused.
        for refused in [
            &b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"[..],
            b"PK\x03\x04\x14\0\0\0",
            b"\0\x01\x02junk",
        ] {
            let e = inspect(Bytes::copy_from_slice(refused), &limits).expect_err("refused");
            assert!(matches!(e, Refused::Unsupported(_)), "{e:?}");
        }
        assert!(matches!(
            inspect(Bytes::new(), &limits),
            Err(Refused::Empty)
        ));
    }
}
