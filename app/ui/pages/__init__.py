"""The pages of the main window: Models, Run setup, Live run, History and Compare."""
