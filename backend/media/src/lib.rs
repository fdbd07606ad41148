//! Photo processing (in progress).
