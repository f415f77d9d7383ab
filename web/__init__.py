"""touchlog on the web (SPEC 21): `create_app(settings)` in web.app; docs/web.md says how the
package is laid out and how to add a page."""
