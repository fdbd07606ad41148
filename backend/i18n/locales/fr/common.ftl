# Words shared by every page.
common-skip = Aller au contenu
common-logout = Se déconnecter
common-language = Langue
common-reference = Référence { $reference }
common-reports-count = { $count ->
    [one] { $count } signalement
   *[other] { $count } signalements
}
common-next-page = Page suivante
common-previous-page = Page précédente
common-save = Enregistrer
common-cancel = Annuler
