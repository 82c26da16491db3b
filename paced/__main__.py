from paced.cli.main import main

main()
