/** Stylesheets imported by a page are bundled by esbuild into /assets/<page>.css (ui/build.ts). */
declare module '*.css';
