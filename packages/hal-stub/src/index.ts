export { BACKEND_NAME, STUB_PLATFORM, StubBackend, createBackend } from './stub-backend';
