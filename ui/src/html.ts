// htm bound to preact's h: templates without a JSX build step.
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
