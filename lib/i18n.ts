// The dialog's strings, and the choice of a language for a request. The languages are those that
// django-session-security ships; the wording is our own. `{counter}` marks where the live
// countdown (m:ss) goes: a clock reading needs no plural forms, which Czech and Polish would
// otherwise need for "seconds". Sentences speak of "this session", not of the user, so that no
// language has to pick a grammatical gender for the reader.

export interface Messages {
  /** The dialog's heading. */
  readonly title: string
  /** The dialog's text; `{counter}` is replaced by the countdown element. */
  readonly message: string
  /** The button that keeps the session. */
  readonly stay: string
  /** Asked before leaving a page with an edited form (browsers may show their own text). */
  readonly confirmFormDiscard: string
  /** The heading of the warning before the absolute end. */
  readonly absoluteTitle: string
  /** The warning before the absolute end: activity cannot extend it; `{counter}` as in `message`. */
  readonly absoluteMessage: string
}

export const DEFAULT_LOCALE = 'en'

const catalog: Readonly<Record<string, Messages>> = Object.freeze({
  en: {
    title: 'Are you still there?',
    message: 'For your security, this session will end in {counter} because of inactivity.',
    stay: 'Stay signed in',
    confirmFormDiscard: 'Some changes have not been saved. Leave this page anyway?',
    absoluteTitle: 'Session time limit',
    absoluteMessage: 'This session reaches its time limit and ends in {counter}. Activity cannot extend it: save your work now.'
  },
  ca: {
    title: 'Encara hi sou?',
    message: 'Per la vostra seguretat, aquesta sessió es tancarà d\'aquí a {counter} per inactivitat.',
    stay: 'Mantén la sessió oberta',
    confirmFormDiscard: 'Hi ha canvis sense desar. Voleu sortir de la pàgina igualment?',
    absoluteTitle: 'Límit de temps de la sessió',
    absoluteMessage: 'Aquesta sessió arriba al seu límit de temps i es tancarà d\'aquí a {counter}. L\'activitat no la pot allargar: deseu la feina ara.'
  },
  cs: {
    title: 'Jste tu ještě?',
    message: 'Z bezpečnostních důvodů tato relace kvůli nečinnosti skončí za {counter}.',
    stay: 'Pokračovat v relaci',
    confirmFormDiscard: 'Některé změny nejsou uložené. Opravdu chcete stránku opustit?',
    absoluteTitle: 'Časový limit relace',
    absoluteMessage: 'Tato relace dosahuje svého časového limitu a skončí za {counter}. Aktivita ji nemůže prodloužit: uložte si práci hned teď.'
  },
  de: {
    title: 'Sind Sie noch da?',
    message: 'Zu Ihrer Sicherheit endet diese Sitzung wegen Inaktivität in {counter}.',
    stay: 'Angemeldet bleiben',
    confirmFormDiscard: 'Einige Änderungen sind nicht gespeichert. Seite trotzdem verlassen?',
    absoluteTitle: 'Zeitlimit der Sitzung',
    absoluteMessage: 'Diese Sitzung erreicht ihr Zeitlimit und endet in {counter}. Aktivität kann sie nicht verlängern: Speichern Sie Ihre Arbeit jetzt.'
  },
  es: {
    title: '¿Sigue ahí?',
    message: 'Por su seguridad, esta sesión terminará dentro de {counter} por inactividad.',
    stay: 'Mantener la sesión',
    confirmFormDiscard: 'Hay cambios sin guardar. ¿Quiere salir de la página de todos modos?',
    absoluteTitle: 'Límite de tiempo de la sesión',
    absoluteMessage: 'Esta sesión alcanza su límite de tiempo y terminará en {counter}. La actividad no puede prolongarla: guarde su trabajo ahora.'
  },
  fr: {
    title: 'Êtes-vous toujours là ?',
    message: 'Pour votre sécurité, cette session se terminera dans {counter} faute d\'activité.',
    stay: 'Garder la session ouverte',
    confirmFormDiscard: 'Certaines modifications ne sont pas enregistrées. Quitter la page quand même ?',
    absoluteTitle: 'Durée maximale de la session',
    absoluteMessage: 'Cette session atteint sa durée maximale et se terminera dans {counter}. L\'activité ne peut pas la prolonger : enregistrez votre travail maintenant.'
  },
  it: {
    title: 'È ancora lì?',
    message: 'Per la sua sicurezza, questa sessione terminerà tra {counter} per inattività.',
    stay: 'Mantieni la sessione',
    confirmFormDiscard: 'Alcune modifiche non sono state salvate. Uscire comunque dalla pagina?',
    absoluteTitle: 'Limite di tempo della sessione',
    absoluteMessage: 'Questa sessione raggiunge il suo limite di tempo e terminerà tra {counter}. L\'attività non può prolungarla: salvate subito il vostro lavoro.'
  },
  nl: {
    title: 'Bent u er nog?',
    message: 'Voor uw veiligheid wordt deze sessie over {counter} beëindigd wegens inactiviteit.',
    stay: 'Aangemeld blijven',
    confirmFormDiscard: 'Sommige wijzigingen zijn niet opgeslagen. Deze pagina toch verlaten?',
    absoluteTitle: 'Tijdslimiet van de sessie',
    absoluteMessage: 'Deze sessie bereikt haar tijdslimiet en eindigt over {counter}. Activiteit kan haar niet verlengen: sla uw werk nu op.'
  },
  pl: {
    title: 'Czy nadal tu jesteś?',
    message: 'Ze względów bezpieczeństwa ta sesja wygaśnie za {counter} z powodu braku aktywności.',
    stay: 'Kontynuuj sesję',
    confirmFormDiscard: 'Niektóre zmiany nie zostały zapisane. Czy mimo to opuścić stronę?',
    absoluteTitle: 'Limit czasu sesji',
    absoluteMessage: 'Ta sesja osiąga swój limit czasu i zakończy się za {counter}. Aktywność nie może jej przedłużyć: zapisz teraz swoją pracę.'
  },
  'pt-BR': {
    title: 'Você ainda está aí?',
    message: 'Para sua segurança, esta sessão será encerrada em {counter} por inatividade.',
    stay: 'Manter a sessão',
    confirmFormDiscard: 'Há alterações que não foram salvas. Sair da página mesmo assim?',
    absoluteTitle: 'Limite de tempo da sessão',
    absoluteMessage: 'Esta sessão atinge seu limite de tempo e termina em {counter}. A atividade não pode prolongá-la: salve seu trabalho agora.'
  },
  'pt-PT': {
    title: 'Ainda está aí?',
    message: 'Para sua segurança, esta sessão será terminada dentro de {counter} por inatividade.',
    stay: 'Manter a sessão',
    confirmFormDiscard: 'Existem alterações que não foram guardadas. Sair da página mesmo assim?',
    absoluteTitle: 'Limite de tempo da sessão',
    absoluteMessage: 'Esta sessão atinge o seu limite de tempo e termina dentro de {counter}. A atividade não a pode prolongar: guarde o seu trabalho agora.'
  }
})

/** The supported locales, as they are spelt in the catalog (BCP 47). */
export const LOCALES: readonly string[] = Object.freeze(Object.keys(catalog))

// Lower-cased lookup: 'pt-br', 'PT-BR' and 'pt_BR' all name pt-BR.
const byLowerCase = new Map(LOCALES.map(locale => [locale.toLowerCase(), locale]))
// A bare language with several regional entries: Portuguese outside Brazil follows the European norm.
byLowerCase.set('pt', 'pt-PT')

/** The supported locale for a language tag, or undefined: exact match first, then the language alone. */
export function matchLocale (tag: string): string | undefined {
  const lower = tag.trim().replace(/_/g, '-').toLowerCase()
  const exact = byLowerCase.get(lower)
  if (exact !== undefined) return exact
  // Brazil's Portuguese only for Brazil (pt-BR-...); any other region follows the European norm.
  if (lower.startsWith('pt-')) return lower.startsWith('pt-br-') ? 'pt-BR' : 'pt-PT'
  const dash = lower.indexOf('-')
  return dash > 0 ? byLowerCase.get(lower.slice(0, dash)) : undefined
}

// A header longer than this is cut: nobody needs more languages, and parsing stays cheap.
const MAX_ACCEPT_LANGUAGE = 256
const QUALITY = /^q=(0(\.\d{0,3})?|1(\.0{0,3})?)$/

/**
 * The best supported locale for an Accept-Language header (RFC 9110 12.5.4): entries by
 * descending quality, header order among equals; `q=0` and `*` never choose; English otherwise.
 */
export function negotiateLocale (acceptLanguage: string | undefined): string {
  if (typeof acceptLanguage !== 'string' || acceptLanguage === '') return DEFAULT_LOCALE
  let best: string | undefined
  let bestQuality = 0
  for (const entry of acceptLanguage.slice(0, MAX_ACCEPT_LANGUAGE).split(',')) {
    const [tag, ...params] = entry.split(';')
    let quality = 1
    for (const param of params) {
      const trimmed = param.trim().toLowerCase()
      if (trimmed.startsWith('q=')) quality = QUALITY.test(trimmed) ? Number(trimmed.slice(2)) : 0
    }
    if (quality <= bestQuality) continue
    const locale = matchLocale(tag)
    if (locale !== undefined) {
      best = locale
      bestQuality = quality
    }
  }
  return best ?? DEFAULT_LOCALE
}

/** The strings of a supported locale (as returned by matchLocale or negotiateLocale). */
export function messagesFor (locale: string): Messages {
  // Own keys only: 'constructor' or '__proto__' must not reach Object.prototype.
  return Object.hasOwn(catalog, locale) ? catalog[locale] : catalog[DEFAULT_LOCALE]
}
