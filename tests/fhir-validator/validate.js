// Validates every resource in every suggestion of the CDS Hooks responses named on the command
// line (files of {"cards": [...]}) with the `fhir` npm package, an independent FHIR R4 validator.
// Prints each error with where it was found; exits 1 on any error, or when there was nothing to
// validate (a run that checks nothing must not pass).
'use strict';
const fs = require('fs');
const { Fhir } = require('fhir');

const fhir = new Fhir();  // R4 by default
let resources = 0;
let errors = 0;
for (const file of process.argv.slice(2)) {
  const response = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [c, card] of (response.cards || []).entries())
    for (const [s, suggestion] of (card.suggestions || []).entries())
      for (const [a, action] of (suggestion.actions || []).entries()) {
        if (!action.resource) continue;
        resources++;
        const result = fhir.validate(action.resource, { errorOnUnexpected: true });
        for (const m of result.messages.filter((m) => m.severity === 'error')) {
          errors++;
          console.log(`${file}: cards[${c}].suggestions[${s}].actions[${a}].resource ${m.location}: ${m.message}`);
        }
      }
}
console.log(`fhir-validator: ${resources} resources in ${process.argv.length - 2} responses, ${errors} errors`);
process.exit(errors > 0 || resources === 0 ? 1 : 0);
