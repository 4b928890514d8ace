// Copies the non-TypeScript files the build needs (the dashboard page) next to the compiled output.
import { cpSync } from 'node:fs';
cpSync(new URL('../src/admin/dashboard', import.meta.url), new URL('../dist/admin/dashboard', import.meta.url), { recursive: true });
