//! Upcasting: stored payloads keep the schema version they were written with; readers get
//! them as the newest version, one registered step at a time. Steps are pure JSON → JSON.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Result, StoreError};

/// One step: turns a payload of version `n` into version `n + 1`.
pub type UpcastStep = Arc<dyn Fn(serde_json::Value) -> std::result::Result<serde_json::Value, String> + Send + Sync>;

/// The registered upcasting steps, keyed by event type, then by the version they start from
/// (by type first, so a read looks a type up by `&str` without building an owned key).
#[derive(Clone, Default)]
pub struct Upcasters {
    steps: HashMap<String, HashMap<u32, UpcastStep>>,
}

impl std::fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps: usize = self.steps.values().map(HashMap::len).sum();
        f.debug_struct("Upcasters").field("steps", &steps).finish()
    }
}

impl Upcasters {
    /// Registers the step that turns `event_type` payloads of `from_version` into
    /// `from_version + 1`.
    pub fn register(
        &mut self,
        event_type: impl Into<String>,
        from_version: u32,
        step: impl Fn(serde_json::Value) -> std::result::Result<serde_json::Value, String> + Send + Sync + 'static,
    ) -> &mut Self {
        self.steps
            .entry(event_type.into())
            .or_default()
            .insert(from_version, Arc::new(step));
        self
    }

    /// Applies every step from `version` onwards. Payloads without a step are returned as
    /// they are, without being parsed.
    ///
    /// # Errors
    /// `Upcast` when the payload is not JSON or a step refuses it.
    pub fn apply(&self, event_type: &str, version: u32, json: Vec<u8>) -> Result<(u32, Vec<u8>)> {
        let Some(steps) = self.steps.get(event_type).filter(|s| s.contains_key(&version)) else {
            return Ok((version, json));
        };
        let fail = |reason: String| StoreError::Upcast {
            event_type: event_type.to_string(),
            from: version,
            reason,
        };
        let mut value: serde_json::Value = serde_json::from_slice(&json).map_err(|e| fail(e.to_string()))?;
        let mut current = version;
        while let Some(step) = steps.get(&current) {
            value = step(value).map_err(fail)?;
            current += 1;
        }
        let json = serde_json::to_vec(&value).map_err(|e| fail(e.to_string()))?;
        Ok((current, json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_payloads_are_read_as_the_current_version() {
        let mut up = Upcasters::default();
        up.register("WeightRecorded", 1, |mut v| {
            let grams = v["grams"].as_i64().ok_or("grams missing")?;
            v["kg"] = serde_json::json!(format!("{}.{}", grams / 1000, (grams % 1000) / 100));
            Ok(v)
        });
        up.register("WeightRecorded", 2, |mut v| {
            v.as_object_mut().ok_or("not an object")?.remove("grams");
            Ok(v)
        });
        let (version, json) = up.apply("WeightRecorded", 1, br#"{"grams":87300}"#.to_vec()).unwrap();
        assert_eq!(version, 3);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({"kg": "87.3"})
        );
        let (version, json) = up.apply("WeightRecorded", 3, br#"{"kg":"1.0"}"#.to_vec()).unwrap();
        assert_eq!((version, json.as_slice()), (3, br#"{"kg":"1.0"}"#.as_slice()));
    }

    #[test]
    fn a_refusing_step_is_a_typed_error() {
        let mut up = Upcasters::default();
        up.register("T", 1, |_| Err("nope".into()));
        assert!(matches!(
            up.apply("T", 1, b"{}".to_vec()),
            Err(StoreError::Upcast { from: 1, .. })
        ));
    }
}
