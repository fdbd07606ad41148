//! End-to-end tests of `process` and `shrink_for_upload` on generated photos.

mod orientation;
mod privacy;
mod refusals;
mod renditions;
mod support;
