//! The gazetteer: named places (streets, squares, landmarks, markets, schools, mosques) a
//! resident can pick instead of placing a pin, read from GeoJSON Point features, and the
//! folding that makes searching them accent-, case- and vowel-mark-insensitive in French,
//! English and Arabic.

use crate::{FieldError, GeoPoint};
use geojson::{Feature, GeometryValue};

/// The longest name kept (characters).
pub const MAX_NAME_CHARS: usize = 120;
/// The longest place identifier (characters).
pub const MAX_ID_CHARS: usize = 64;

/// What kind of place a name designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaceKind {
    Street,
    Square,
    Landmark,
    Market,
    School,
    Mosque,
    Other,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 7] = [
        PlaceKind::Street,
        PlaceKind::Square,
        PlaceKind::Landmark,
        PlaceKind::Market,
        PlaceKind::School,
        PlaceKind::Mosque,
        PlaceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Street => "street",
            PlaceKind::Square => "square",
            PlaceKind::Landmark => "landmark",
            PlaceKind::Market => "market",
            PlaceKind::School => "school",
            PlaceKind::Mosque => "mosque",
            PlaceKind::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    "properties.kind",
                    "must be street, square, landmark, market, school, mosque or other",
                )
            })
    }
}

/// A named place of a jurisdiction's gazetteer.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Stable identifier: re-importing a file with the same ids updates the same rows.
    pub id: String,
    pub name: String,
    pub name_ar: Option<String>,
    pub kind: PlaceKind,
    pub point: GeoPoint,
}

impl Place {
    /// What searches match against: the folded words of every name, each preceded by a
    /// space (so that `LIKE '% ' || prefix || '%'` finds a prefix of any word).
    pub fn search_key(&self) -> String {
        let mut key = format!(" {}", fold(&self.name));
        if let Some(ar) = &self.name_ar {
            key.push(' ');
            key.push_str(&fold(ar));
        }
        key
    }

    /// The name to show in `language` ("ar": the Arabic name when there is one).
    pub fn name_in(&self, language: &str) -> &str {
        match (&self.name_ar, language) {
            (Some(ar), "ar") => ar,
            _ => &self.name,
        }
    }

    /// Reads a GeoJSON Point feature. Properties: `name` (required), `name_ar`, `kind`
    /// (default `other`), `id` (else the feature's id, else derived from kind and name).
    pub fn from_feature(feature: &Feature) -> Result<Self, FieldError> {
        let text = |key: &str| -> Option<String> {
            feature
                .properties
                .as_ref()
                .and_then(|p| p.get(key))
                .and_then(|v| v.as_str())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let name = text("name")
            .filter(|n| n.chars().count() <= MAX_NAME_CHARS)
            .ok_or_else(|| {
                FieldError::new(
                    "properties.name",
                    format!("must be a text of 1-{MAX_NAME_CHARS} characters"),
                )
            })?;
        let name_ar = text("name_ar");
        if name_ar
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
        {
            return Err(FieldError::new(
                "properties.name_ar",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        let kind = text("kind")
            .map(|k| PlaceKind::parse(&k))
            .transpose()?
            .unwrap_or(PlaceKind::Other);
        let point = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(GeometryValue::Point { coordinates }) if coordinates.len() >= 2 => {
                GeoPoint::parse(coordinates[1], coordinates[0])
                    .map_err(|e| e.within("geometry.coordinates"))?
            }
            _ => return Err(FieldError::new("geometry", "must be a Point")),
        };
        let id = text("id")
            .or_else(|| {
                feature.id.as_ref().map(|id| match id {
                    geojson::feature::Id::String(s) => s.clone(),
                    geojson::feature::Id::Number(n) => n.to_string(),
                })
            })
            .unwrap_or_else(|| derived_id(kind, &name));
        if id.chars().count() > MAX_ID_CHARS {
            return Err(FieldError::new(
                "properties.id",
                format!("must be at most {MAX_ID_CHARS} characters"),
            ));
        }
        Ok(Self {
            id,
            name,
            name_ar,
            kind,
            point,
        })
    }
}

/// `kind-folded-name` (ASCII letters and digits, dashes), at most [`MAX_ID_CHARS`].
fn derived_id(kind: PlaceKind, name: &str) -> String {
    let words: Vec<String> = fold(name)
        .split(' ')
        .map(|w| w.chars().filter(|c| c.is_ascii_alphanumeric()).collect())
        .filter(|w: &String| !w.is_empty())
        .collect();
    let mut id = format!("{}-{}", kind.as_str(), words.join("-"));
    id.truncate(MAX_ID_CHARS);
    id
}

/// Folds a text for searching: lower case, Latin accents and ligatures removed, Arabic
/// vowel marks and tatweel removed, Arabic letter variants unified (أ إ آ ٱ → ا, ة → ه,
/// ى → ي, ؤ → و, ئ → ي), punctuation to spaces, runs of spaces to one.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let mapped: &str = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'ç' | 'ć' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
            'ñ' | 'ń' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => "u",
            'ý' | 'ÿ' => "y",
            'š' | 'ś' => "s",
            'ž' | 'ź' | 'ż' => "z",
            'ß' => "ss",
            'œ' => "oe",
            'æ' => "ae",
            'أ' | 'إ' | 'آ' | 'ٱ' => "ا",
            'ة' => "ه",
            'ى' | 'ئ' => "ي",
            'ؤ' => "و",
            // Arabic vowel marks, shadda, sukun, superscript alef, tatweel.
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => "",
            // Combining marks left by decomposed Latin letters.
            '\u{0300}'..='\u{036F}' => "",
            c if c.is_alphanumeric() => {
                out.push(c);
                space = false;
                continue;
            }
            _ => " ",
        };
        if mapped == " " {
            if !space {
                out.push(' ');
                space = true;
            }
        } else if !mapped.is_empty() {
            out.push_str(mapped);
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Reads a GeoJSON FeatureCollection of places. Every feature is checked; the first error
/// names the feature. Two features with the same id are an error.
pub fn parse_places(text: &str) -> Result<Vec<Place>, FieldError> {
    let collection = match text.parse::<geojson::GeoJson>() {
        Ok(geojson::GeoJson::FeatureCollection(fc)) => fc,
        Ok(_) => return Err(FieldError::new("", "expected a FeatureCollection")),
        Err(e) => return Err(FieldError::new("", format!("not GeoJSON: {e}"))),
    };
    let mut places = Vec::with_capacity(collection.features.len());
    let mut seen = std::collections::HashSet::new();
    for (i, feature) in collection.features.iter().enumerate() {
        let place =
            Place::from_feature(feature).map_err(|e| e.within(&format!("features[{i}]")))?;
        if !seen.insert(place.id.clone()) {
            return Err(FieldError::new(
                format!("features[{i}].properties.id"),
                format!("{} is used by an earlier feature", place.id),
            ));
        }
        places.push(place);
    }
    Ok(places)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_arabic_marks() {
        assert_eq!(fold("Place Moulay-El-Mehdi"), "place moulay el mehdi");
        assert_eq!(fold("  Rue d'Écosse  "), "rue d ecosse");
        assert_eq!(fold("Lycée Jaber Ibn Hayane"), "lycee jaber ibn hayane");
        assert_eq!(fold("Œuvre"), "oeuvre");
        assert_eq!(fold("مَسْجِدُ"), "مسجد");
        assert_eq!(fold("ساحة الفدان"), "ساحه الفدان");
        assert_eq!(fold("إعدادية"), fold("اعداديه"));
        assert_eq!(fold("مـــدرسة"), "مدرسه");
    }

    fn feature(json: &str) -> Feature {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn places_are_read_from_point_features() {
        let place = Place::from_feature(&feature(
            r#"{"type":"Feature","properties":{"name":"Place Hassan II","name_ar":"ساحة الحسن الثاني","kind":"square"},
                "geometry":{"type":"Point","coordinates":[-5.3684,35.5785]}}"#,
        ))
        .unwrap();
        assert_eq!(place.kind, PlaceKind::Square);
        assert_eq!(place.id, "square-place-hassan-ii");
        assert_eq!(place.point.lat(), 35.5785);
        assert_eq!(place.name_in("ar"), "ساحة الحسن الثاني");
        assert_eq!(place.name_in("fr"), "Place Hassan II");
        assert_eq!(place.search_key(), " place hassan ii ساحه الحسن الثاني");
    }

    #[test]
    fn bad_features_say_what_is_wrong() {
        let no_name = Place::from_feature(&feature(
            r#"{"type":"Feature","properties":{"kind":"square"},"geometry":{"type":"Point","coordinates":[-5.3,35.5]}}"#,
        ));
        assert_eq!(no_name.unwrap_err().field, "properties.name");
        let bad_kind = Place::from_feature(&feature(
            r#"{"type":"Feature","properties":{"name":"X","kind":"castle"},"geometry":{"type":"Point","coordinates":[-5.3,35.5]}}"#,
        ));
        assert_eq!(bad_kind.unwrap_err().field, "properties.kind");
        let polygon = Place::from_feature(&feature(
            r#"{"type":"Feature","properties":{"name":"X"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#,
        ));
        assert_eq!(polygon.unwrap_err().field, "geometry");
        let duplicate = parse_places(
            r#"{"type":"FeatureCollection","features":[
              {"type":"Feature","id":"a","properties":{"name":"X"},"geometry":{"type":"Point","coordinates":[-5.3,35.5]}},
              {"type":"Feature","id":"a","properties":{"name":"Y"},"geometry":{"type":"Point","coordinates":[-5.3,35.5]}}]}"#,
        );
        assert_eq!(duplicate.unwrap_err().field, "features[1].properties.id");
    }
}
