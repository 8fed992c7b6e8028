// The dialog's languages (README "Browser client" › "Languages"): every locale complete, Accept-Language negotiation,
// unknown locales fall back to English.
import { test } from 'tap'
import { DEFAULT_LOCALE, LOCALES, matchLocale, messagesFor, negotiateLocale } from '../lib/i18n.js'

test('English plus the ten languages of the original, each complete and distinct', async t => {
  t.same([...LOCALES].sort(), ['ca', 'cs', 'de', 'en', 'es', 'fr', 'it', 'nl', 'pl', 'pt-BR', 'pt-PT'])
  const english = messagesFor('en')
  for (const locale of LOCALES) {
    const messages = messagesFor(locale)
    for (const key of ['title', 'message', 'stay', 'confirmFormDiscard'] as const) {
      t.type(messages[key], 'string', `${locale}.${key}`)
      t.ok(messages[key].trim().length > 0, `${locale}.${key} is not empty`)
      if (locale !== 'en') t.not(messages[key], english[key], `${locale}.${key} is translated`)
    }
    t.equal(messages.message.split('{counter}').length, 2, `${locale}.message has one {counter}`)
    t.notMatch(messages.title + messages.message + messages.stay, /[<>]/, `${locale} has no markup`)
  }
})

test('messagesFor falls back to English, and never to Object.prototype', async t => {
  t.equal(messagesFor('xx'), messagesFor(DEFAULT_LOCALE))
  t.equal(messagesFor('constructor'), messagesFor('en'))
  t.equal(messagesFor('__proto__'), messagesFor('en'))
  t.equal(messagesFor('de').stay, 'Angemeldet bleiben')
})

test('matchLocale: exact, case and underscore, region, Portuguese', async t => {
  t.equal(matchLocale('de'), 'de')
  t.equal(matchLocale(' DE '), 'de')
  t.equal(matchLocale('de-AT'), 'de')
  t.equal(matchLocale('de-Latn-CH'), 'de')
  t.equal(matchLocale('pt_BR'), 'pt-BR')
  t.equal(matchLocale('PT-br'), 'pt-BR')
  t.equal(matchLocale('pt-PT'), 'pt-PT')
  t.equal(matchLocale('pt'), 'pt-PT')
  t.equal(matchLocale('pt-AO'), 'pt-PT')
  t.equal(matchLocale('pt-BR-u-nu-latn'), 'pt-BR')
  t.equal(matchLocale('en-GB'), 'en')
  t.equal(matchLocale('ja'), undefined)
  t.equal(matchLocale('*'), undefined)
  t.equal(matchLocale(''), undefined)
  t.equal(matchLocale('-de'), undefined)
  t.equal(matchLocale('constructor'), undefined)
})

test('negotiateLocale reads Accept-Language by quality', async t => {
  t.equal(negotiateLocale(undefined), 'en')
  t.equal(negotiateLocale(''), 'en')
  t.equal(negotiateLocale('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5'), 'fr')
  t.equal(negotiateLocale('ja, de;q=0.5'), 'de', 'skips unsupported entries')
  t.equal(negotiateLocale('en;q=0.4, pl;q=0.9'), 'pl', 'quality beats order')
  t.equal(negotiateLocale('nl;q=0.8, it;q=0.8'), 'nl', 'header order among equals')
  t.equal(negotiateLocale('cs;q=0, en;q=0.1'), 'en', 'q=0 never chooses')
  t.equal(negotiateLocale('cs;q=0'), 'en')
  t.equal(negotiateLocale('es;Q=1.000'), 'es', 'parameters are case-insensitive')
  t.equal(negotiateLocale('es;q=1.5, ca;q=0.3'), 'ca', 'an invalid quality counts as 0')
  t.equal(negotiateLocale('es;q=abc'), 'en')
  t.equal(negotiateLocale('es;level=1'), 'es', 'other parameters are ignored')
  t.equal(negotiateLocale('pt-BR,pt;q=0.9'), 'pt-BR')
  t.equal(negotiateLocale('ja, ' + 'x'.repeat(1000) + ', de'), 'en', 'a huge header is cut, not parsed whole')
  t.equal(negotiateLocale('*'), 'en')
})
