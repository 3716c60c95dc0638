// What the page's script finds on window besides the DOM: the chart library, loaded by its own <script> tag.
import type uPlotClass from 'uplot';

declare global {
  /** Absent when /vendor/uplot.js failed to load: the page then shows no charts rather than failing. */
  const uPlot: typeof uPlotClass;
}
