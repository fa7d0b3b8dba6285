// Planning with no LLM endpoint: recognises a few common request shapes and
// writes the graph from a template, so `orrery plan` is useful offline.
// Each step becomes a task that prints what it would do: the user reviews
// and replaces the commands before submitting real work.

interface Template {
  name: string;
  match: RegExp;
  build(prompt: string): Record<string, unknown>;
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'step';

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'"'"'`)}'`;

/** Splits "do A, then B and C, then D" into stages of parallel steps. */
export function splitStages(prompt: string): string[][] {
  return prompt
    .split(/\s*(?:,?\s*\bthen\b|;|\bafter that\b|\bfinally\b)\s*/i)
    .map((stage) =>
      stage
        .split(/\s*(?:,|\band\b|\bin parallel with\b)\s*/i)
        .map((s) => s.trim())
        .filter((s) => s.length > 1),
    )
    .filter((stage) => stage.length > 0);
}

const TEMPLATES: Template[] = [
  {
    name: 'stages',
    match: /\bthen\b|;|\bafter that\b|\bfinally\b/i,
    build(prompt) {
      const tasks: Record<string, unknown> = {};
      let previous: string[] = [];
      const used = new Set<string>();
      for (const stage of splitStages(prompt)) {
        const current: string[] = [];
        for (const step of stage) {
          let id = slug(step);
          for (let n = 2; used.has(id); n++) id = `${slug(step)}-${n}`;
          used.add(id);
          tasks[id] = {
            description: step,
            run: `echo ${shellQuote(`TODO: ${step}`)}`,
            ...(previous.length ? { needs: previous } : {}),
          };
          current.push(id);
        }
        previous = current;
      }
      return { name: slug(prompt), description: prompt, tasks };
    },
  },
];

export class TemplatePlanner {
  async plan(prompt: string): Promise<{ graph: unknown; source: 'template' }> {
    const template = TEMPLATES.find((t) => t.match.test(prompt));
    if (template) return { graph: template.build(prompt), source: 'template' };
    const steps = splitStages(prompt).flat();
    const tasks: Record<string, unknown> = {};
    for (const step of steps.length ? steps : [prompt]) tasks[slug(step)] = { description: step, run: `echo ${shellQuote(`TODO: ${step}`)}` };
    return { graph: { name: slug(prompt), description: prompt, tasks }, source: 'template' };
  }
}
